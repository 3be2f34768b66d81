// The `jarvis-node-health` Temporal Schedule: every interval, the node health
// check workflow runs on the main task queue. Created or brought up to date at
// every worker start, so changing the interval needs only a restart.
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptionsAction, type ScheduleSpec } from '@temporalio/client';
import type { JarvisEnv } from '../config/env.js';
import type { NodeHealthCheckInput } from '../workflows/node-health.js';
import { createTemporalClient } from './client.js';
import { temporalTlsOf } from './tls.js';
import { createDataConverter } from './payload-codec.js';

export const NODE_HEALTH_SCHEDULE_ID = 'jarvis-node-health';

export interface NodeHealthScheduleOptions {
  taskQueue: string;
  intervalMs: number;
  pickupTimeoutMs: number;
  /** Tests use schedules of their own. */
  scheduleId?: string;
}

export async function ensureNodeHealthSchedule(client: Client, options: NodeHealthScheduleOptions): Promise<string> {
  const scheduleId = options.scheduleId ?? NODE_HEALTH_SCHEDULE_ID;
  const spec: ScheduleSpec = { intervals: [{ every: options.intervalMs }] };
  const input: NodeHealthCheckInput = { pickupTimeoutMs: options.pickupTimeoutMs };
  const action: ScheduleOptionsAction = {
    type: 'startWorkflow',
    workflowType: 'nodeHealthCheck',
    workflowId: scheduleId,
    taskQueue: options.taskQueue,
    args: [input],
    // A check that outlives its interval is stuck: the next one replaces it.
    workflowExecutionTimeout: Math.max(options.intervalMs, options.pickupTimeoutMs + 3 * 60_000),
  };
  // Overlapping checks would race on the same rows: skip a check while the previous one runs.
  const create = () => client.schedule.create({ scheduleId, spec, action, policies: { overlap: ScheduleOverlapPolicy.SKIP } });
  // Replaced rather than updated: an update decodes the previous action's arguments, which a
  // rotated secret key (or another installation on the same namespace) can no longer decrypt.
  // Processes starting together race between the delete and the create: the last one's stays.
  for (let attempt = 1; ; attempt += 1) {
    try {
      await create();
      return scheduleId;
    } catch (error) {
      if (!(error instanceof ScheduleAlreadyRunning) || attempt >= 5) throw error;
    }
    try {
      await client.schedule.getHandle(scheduleId).delete();
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 200));
  }
}

/** At a worker's start (npm start, npm run worker): the schedule as configured. */
export async function ensureNodeHealthScheduleFromEnv(env: JarvisEnv, address: string): Promise<void> {
  const client = await createTemporalClient({ address, namespace: env.namespace, tls: temporalTlsOf(env) }, createDataConverter(env), 30_000);
  try {
    await ensureNodeHealthSchedule(client, { taskQueue: env.taskQueue, intervalMs: env.nodeHealthIntervalMs, pickupTimeoutMs: env.nodeHealthPickupTimeoutMs });
  } finally {
    await client.connection.close();
  }
}
