// A private Temporal dev server and a worker in this process, for scripts that
// run outside the test suite (benchmarks, history recording).
import { Client, Connection } from '@temporalio/client';
import type { WorkerInterceptors } from '@temporalio/worker';
import path from 'node:path';
import { loadEnv, PROJECT_ROOT } from '../config/env.js';
import { findTemporalBinary, startDevServer } from '../temporal/dev-server.js';
import { freePort } from '../config/free-port.js';
import { createDataConverter } from '../temporal/payload-codec.js';
import { runAuthorityOf } from '../security/run-authority.js';
import { actionProcessPolicyOf, bundleWorkflows, createRunbookWorker } from '../temporal/worker.js';
import { workerStoreOptions, type WorkerStores } from '../temporal/worker-stores.js';
import { collectingLineSink } from './line-sinks.js';

export interface LocalEngineOptions {
  /** Names the folder under .data/ where the server log goes. */
  name: string;
  taskQueue: string;
  workflowsPath?: string;
  interceptors?: WorkerInterceptors;
  stores?: Omit<WorkerStores, 'close'>;
  /** A payload key other than the installation's (recorded histories use a fixture key). */
  secretKey?: string;
}

export async function startLocalEngine(options: LocalEngineOptions) {
  const env = { ...loadEnv(), ...(options.secretKey ? { secretKey: options.secretKey } : {}) };
  const binary = findTemporalBinary(env.searchPath, env.cacheBinDir);
  if (!binary) throw new Error('no temporal binary: run .ci/run or npm start once');
  const server = await startDevServer({ binary, port: await freePort(), logFile: path.join(PROJECT_ROOT, '.data', options.name, 'temporal.log') });
  const { worker, connection: workerConnection } = await createRunbookWorker({
    address: server.address,
    namespace: 'default',
    taskQueue: options.taskQueue,
    workflowBundle: await bundleWorkflows(options.workflowsPath),
    shutdownGraceMs: 1_000,
    playbooksDir: env.playbooksDir,
    processes: actionProcessPolicyOf(env),
    authority: runAuthorityOf(env),
    ...workerStoreOptions(options.stores ?? { lineSink: collectingLineSink() }),
    dataConverter: createDataConverter(env),
    ...(options.interceptors ? { interceptors: options.interceptors } : {}),
  });
  const running = worker.run();
  const connection = await Connection.connect({ address: server.address });
  return {
    client: new Client({ connection, dataConverter: createDataConverter(env) }),
    async stop() {
      worker.shutdown();
      await running;
      await workerConnection.close();
      await connection.close();
      await server.stop();
    },
  };
}
