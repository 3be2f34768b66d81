// The `jarvis-retention-purge` Temporal Schedule: every interval (a day by
// default) the purgeRunHistory workflow runs on the main task queue. Created at
// API start when missing; a changed interval replaces it.
import type { Client } from '@temporalio/client';
import { ensureIntervalSchedule } from '../temporal/interval-schedule.js';
import { PURGE_WORKFLOW } from '../workflows/purge-run-history.js';

export const RETENTION_SCHEDULE_ID = 'jarvis-retention-purge';

export interface RetentionScheduleOptions {
  taskQueue: string;
  intervalMs: number;
  /** Tests use schedules of their own. */
  scheduleId?: string;
}

/** Answers whether it created (or replaced) the schedule. A scheduled purge is authenticated by the schedule that started it (TemporalScheduledById). */
export async function ensureRetentionSchedule(client: Client, options: RetentionScheduleOptions): Promise<boolean> {
  return ensureIntervalSchedule(client, { scheduleId: options.scheduleId ?? RETENTION_SCHEDULE_ID, workflowType: PURGE_WORKFLOW, taskQueue: options.taskQueue, everyMs: options.intervalMs });
}
