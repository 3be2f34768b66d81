// The `jarvis-retention-purge` Temporal Schedule: every interval (a day by
// default) the purgeRunHistory workflow runs on the main task queue. Created at
// API start when missing; a changed interval replaces it.
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { PURGE_WORKFLOW } from '../workflows/purge-run-history.js';

export const RETENTION_SCHEDULE_ID = 'jarvis-retention-purge';

export interface RetentionScheduleOptions {
  taskQueue: string;
  intervalMs: number;
  /** Tests use schedules of their own. */
  scheduleId?: string;
}

/** Answers whether it created (or replaced) the schedule. */
export async function ensureRetentionSchedule(client: Client, options: RetentionScheduleOptions): Promise<boolean> {
  const scheduleId = options.scheduleId ?? RETENTION_SCHEDULE_ID;
  const handle = client.schedule.getHandle(scheduleId);
  try {
    const current = await handle.describe();
    const action = current.action as { type: string; taskQueue?: string; workflowType?: string };
    const every = current.spec.intervals?.[0]?.every;
    const everyMs = typeof every === 'number' ? every : undefined;
    if (action.workflowType === PURGE_WORKFLOW && action.taskQueue === options.taskQueue && (everyMs === undefined || everyMs === options.intervalMs)) return false;
    await handle.delete();
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
  }
  try {
    await client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: options.intervalMs }] },
      // No arguments: a scheduled purge is authenticated by the schedule that started it (TemporalScheduledById).
      action: { type: 'startWorkflow', workflowType: PURGE_WORKFLOW, workflowId: scheduleId, taskQueue: options.taskQueue, args: [] },
      // Two purges at once would only race over the same rows.
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    });
    return true;
  } catch (error) {
    // Another API process created it at the same moment.
    if (error instanceof ScheduleAlreadyRunning) return false;
    throw error;
  }
}
