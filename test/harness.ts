// What engine tests share: a worker on a task queue of their own, a client, and
// the run service over a catalog of test manifests.
import { Client, Connection } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { inject } from 'vitest';
import { collectingLineSink } from './line-sinks.js';

export { scratchDir, writeManifests } from './files.js';
import { loadEnv, PROJECT_ROOT } from '../config/env.js';
import { runAuthorityOf } from '../security/run-authority.js';
import { actionCatalog } from '../activities/catalog.js';
import { RunbookCatalog } from '../manifest/catalog.js';
import { RunService } from '../runs/run-service.js';
import { createDataConverter } from '../temporal/payload-codec.js';
import { actionProcessPolicyOf, createRunbookWorker } from '../temporal/worker.js';
import { workerStoreOptions, type WorkerStores } from '../temporal/worker-stores.js';

/** The installation's data converter (payload encryption), as every process of the suite loads it. */
export function testDataConverter() {
  return createDataConverter(loadEnv());
}

export function uniqueTaskQueue(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export async function startWorker(taskQueue: string, address = inject('temporalAddress'), stores?: Omit<WorkerStores, 'close'>) {
  const { worker, connection } = await createRunbookWorker({
    address,
    namespace: 'default',
    taskQueue,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    shutdownGraceMs: 1_000,
    playbooksDir: path.join(PROJECT_ROOT, 'runbooks', 'playbooks'),
    // Action processes as the installation runs them (as root: another user, a minimal environment).
    processes: actionProcessPolicyOf(loadEnv()),
    authority: runAuthorityOf(loadEnv()),
    ...workerStoreOptions(stores ?? { lineSink: collectingLineSink() }),
    dataConverter: createDataConverter(loadEnv(), stores?.keyGenerations ? { generations: stores.keyGenerations } : {}),
  });
  const running = worker.run();
  return {
    worker,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await connection.close();
    },
  } satisfies { worker: Worker; stop(): Promise<void> };
}


export async function createRunService(taskQueue: string, runbooksDir: string, address = inject('temporalAddress')) {
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, dataConverter: testDataConverter() });
  const catalog = await RunbookCatalog.fromDirectory(runbooksDir, actionCatalog);
  return { client, service: new RunService(client, catalog, taskQueue, runAuthorityOf(loadEnv())), close: () => connection.close() };
}
