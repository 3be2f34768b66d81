// The `jarvis-cooperative-earnings` Temporal Schedule: every period (an hour)
// the earnings job pays nodes for the period that ended. Created at worker
// start when missing (like the node health schedule), replaced when its period changed.
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { JarvisEnv } from '../config/env.js';
import { createTemporalClient } from '../temporal/client.js';
import { createDataConverter } from '../temporal/payload-codec.js';
import { temporalTlsOf } from '../temporal/tls.js';
import { COOPERATIVE_EARNINGS_WORKFLOW, type CooperativeEarningsInput } from '../workflows/cooperative-earnings.js';

export const EARNINGS_SCHEDULE_ID = 'jarvis-cooperative-earnings';
export const EARNINGS_PERIOD_MS = 3_600_000;

export async function ensureEarningsSchedule(client: Client, options: { taskQueue: string; periodMs: number; scheduleId?: string }): Promise<boolean> {
  const scheduleId = options.scheduleId ?? EARNINGS_SCHEDULE_ID;
  const handle = client.schedule.getHandle(scheduleId);
  try {
    const current = await handle.describe();
    const action = current.action as { workflowType?: string; taskQueue?: string };
    const every = current.spec.intervals?.[0]?.every;
    if (action.workflowType === COOPERATIVE_EARNINGS_WORKFLOW && action.taskQueue === options.taskQueue && every === options.periodMs) return false;
    await handle.delete();
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
  }
  const input: CooperativeEarningsInput = { periodMs: options.periodMs };
  try {
    await client.schedule.create({
      scheduleId,
      // A minute after each period ends: the period's last health checks are recorded by then.
      spec: { intervals: [{ every: options.periodMs, offset: 60_000 }] },
      action: { type: 'startWorkflow', workflowType: COOPERATIVE_EARNINGS_WORKFLOW, workflowId: scheduleId, taskQueue: options.taskQueue, args: [input] },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    });
    return true;
  } catch (error) {
    if (error instanceof ScheduleAlreadyRunning) return false;
    throw error;
  }
}

/** At a worker's start (npm start, npm run worker). */
export async function ensureEarningsScheduleFromEnv(env: JarvisEnv, address: string): Promise<void> {
  const client = await createTemporalClient({ address, namespace: env.namespace, tls: temporalTlsOf(env) }, createDataConverter(env), 30_000);
  try {
    await ensureEarningsSchedule(client, { taskQueue: env.taskQueue, periodMs: EARNINGS_PERIOD_MS });
  } finally {
    await client.connection.close();
  }
}
