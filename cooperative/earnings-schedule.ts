// The `jarvis-cooperative-earnings` Temporal Schedule: every period (an hour)
// the earnings job pays nodes for the period that ended. Created at worker
// start when missing (like the node health schedule), replaced when its period changed.
import type { Client } from '@temporalio/client';
import { ensureIntervalSchedule } from '../temporal/interval-schedule.js';
import type { JarvisEnv } from '../config/env.js';
import { createTemporalClient } from '../temporal/client.js';
import { createDataConverter } from '../temporal/payload-codec.js';
import { temporalTlsOf } from '../temporal/tls.js';
import { COOPERATIVE_EARNINGS_WORKFLOW, EARNINGS_PERIOD_MS } from '../workflows/cooperative-earnings.js';

export const EARNINGS_SCHEDULE_ID = 'jarvis-cooperative-earnings';

export async function ensureEarningsSchedule(client: Client, options: { taskQueue: string; scheduleId?: string }): Promise<boolean> {
  // A minute after each period ends: the period's last health checks are recorded by then.
  return ensureIntervalSchedule(client, { scheduleId: options.scheduleId ?? EARNINGS_SCHEDULE_ID, workflowType: COOPERATIVE_EARNINGS_WORKFLOW, taskQueue: options.taskQueue, everyMs: EARNINGS_PERIOD_MS, offsetMs: 60_000 });
}

/** At a worker's start (npm start, npm run worker). */
export async function ensureEarningsScheduleFromEnv(env: JarvisEnv, address: string): Promise<void> {
  const client = await createTemporalClient({ address, namespace: env.namespace, tls: temporalTlsOf(env) }, createDataConverter(env), 30_000);
  try {
    await ensureEarningsSchedule(client, { taskQueue: env.taskQueue });
  } finally {
    await client.connection.close();
  }
}
