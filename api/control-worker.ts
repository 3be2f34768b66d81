// The API process's own Temporal worker: activities only, on the control task
// queue (`<taskQueue>.control`). What only the API may decide, such as whether
// a schedule's owner may still start its runbook, is asked of it through
// Temporal, so a fire waits for an API that is restarting instead of being lost.
import type { Client, Connection, TLSConfig } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { controlTaskQueue } from '../workflows/scheduled-run.js';

export interface ControlWorker {
  stop(): Promise<void>;
}

/** `tls`: how the API reaches Temporal (a client connection does not keep it). */
export async function startControlWorker(temporal: Client, taskQueue: string, activities: object, tls?: TLSConfig): Promise<ControlWorker> {
  const { address } = (temporal.connection as Connection).options;
  const connection = await NativeConnection.connect({ address, ...(tls ? { tls } : {}) });
  const worker = await Worker.create({
    connection,
    namespace: temporal.options.namespace,
    taskQueue: controlTaskQueue(taskQueue),
    activities,
    dataConverter: temporal.options.dataConverter,
    shutdownGraceTime: '10 seconds',
  });
  const running = worker.run();
  return {
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch((error: unknown) => console.error('the control worker stopped with an error', error));
      await connection.close();
    },
  };
}
