// Thousands of simulated node agents in this process, for bench:fleet: each a
// real Temporal worker on its own node task queue with the node-local
// activities an agent registers, made as cheap as a worker gets: activities
// only (no workflow pollers, no sticky queue), one poll and one activity at a
// time, a hundred workers per gRPC connection, and a line sink that keeps nothing.
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { LineSink } from '../activities/action.js';
import { createActivities } from '../activities/index.js';
import { nodeTaskQueue } from '../manifest/node-names.js';

export interface BenchAgents {
  /** How long making and starting every worker took. */
  startMs: number;
  connections: number;
  stop(): Promise<void>;
}

const discardingLineSink: LineSink = { write: () => undefined, flush: async () => undefined };

export async function startBenchAgents(options: { names: string[]; environment: string; address: string; dataConverter: DataConverter; agentsPerConnection: number }): Promise<BenchAgents> {
  const started = performance.now();
  const connections: NativeConnection[] = [];
  const running: Array<{ worker: Worker; done: Promise<void> }> = [];
  try {
    for (const [index, name] of options.names.entries()) {
      if (index % options.agentsPerConnection === 0) connections.push(await NativeConnection.connect({ address: options.address }));
      const worker = await Worker.create({
        connection: connections.at(-1)!,
        namespace: 'default',
        taskQueue: nodeTaskQueue(options.environment, name),
        activities: createActivities({ lineSink: discardingLineSink, playbooksDir: '', node: { name, environment: options.environment } }, 'node'),
        dataConverter: options.dataConverter,
        // One poll each (SDK 1.24 ignores maxConcurrentActivityTaskPolls and opens min(10, executions) polls): Temporal's
        // frontend takes 1,200 concurrent polls of a kind per namespace by default, and each agent's poll counts.
        activityTaskPollerBehavior: { type: 'simple-maximum', maximum: 1 },
        maxConcurrentActivityTaskExecutions: 1,
        shutdownGraceTime: 500,
      });
      running.push({ worker, done: worker.run() });
    }
  } catch (error) {
    await stopAll(running, connections);
    throw error;
  }
  return { startMs: performance.now() - started, connections: connections.length, stop: () => stopAll(running, connections) };
}

async function stopAll(running: Array<{ worker: Worker; done: Promise<void> }>, connections: NativeConnection[]): Promise<void> {
  for (const { worker } of running) if (worker.getState() === 'RUNNING') worker.shutdown();
  await Promise.allSettled(running.map(({ done }) => done));
  await Promise.allSettled(connections.map((connection) => connection.close()));
}
