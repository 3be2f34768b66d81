// Many simulated node agents in one process: each a real Temporal worker on
// its own node task queue, with the node-local activities an agent runs and a
// line sink of its own, so a test sees what ran on which node.
import { NativeConnection, Worker } from '@temporalio/worker';
import pg from 'pg';
import { inject } from 'vitest';
import { createActivities } from '../activities/index.js';
import { loadEnv } from '../config/env.js';
import { nodeTaskQueue } from '../manifest/node-names.js';
import { PayloadKeyGenerations } from '../security/payload-key-generations.js';
import { createDataConverter } from '../temporal/payload-codec.js';
import { collectingLineSink } from './line-sinks.js';

export interface SimulatedAgents {
  /** The lines each node's agent wrote, by node name. */
  lines: Map<string, ReturnType<typeof collectingLineSink>>;
  stop(): Promise<void>;
}

/** Starts an agent for each node name, all on one connection; `databaseUrl`: where the installation keeps its payload key generations. */
export async function startSimulatedAgents(names: string[], environment: string, databaseUrl: string): Promise<SimulatedAgents> {
  const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const dataConverter = createDataConverter(loadEnv(), { generations: new PayloadKeyGenerations(pool) });
  const lines = new Map<string, ReturnType<typeof collectingLineSink>>();
  const running: Array<{ worker: Worker; done: Promise<void> }> = [];
  for (const name of names) {
    const sink = collectingLineSink();
    lines.set(name, sink);
    const worker = await Worker.create({
      connection,
      namespace: 'default',
      taskQueue: nodeTaskQueue(environment, name),
      activities: createActivities({ lineSink: sink, playbooksDir: '', node: { name, environment } }, 'node'),
      dataConverter,
      // Fifty agents share two cores: one poll and a couple of activities each are plenty.
      activityTaskPollerBehavior: { type: 'simple-maximum', maximum: 1 },
      maxConcurrentActivityTaskExecutions: 4,
      shutdownGraceTime: 500,
    });
    running.push({ worker, done: worker.run() });
  }
  return {
    lines,
    async stop() {
      for (const { worker } of running) if (worker.getState() === 'RUNNING') worker.shutdown();
      await Promise.allSettled(running.map(({ done }) => done));
      await connection.close();
      await pool.end();
    },
  };
}
