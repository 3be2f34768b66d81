// A Temporal Schedule that starts one workflow, without arguments, every
// interval: created when missing, replaced when its workflow, task queue or
// interval changed. Without arguments any process of the installation can
// describe it, whatever key it holds (arguments are sealed with one).
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';

export interface IntervalScheduleOptions {
  scheduleId: string;
  workflowType: string;
  taskQueue: string;
  everyMs: number;
  offsetMs?: number;
}

/** Answers whether it created (or replaced) the schedule. */
export async function ensureIntervalSchedule(client: Client, options: IntervalScheduleOptions): Promise<boolean> {
  const handle = client.schedule.getHandle(options.scheduleId);
  try {
    const current = await handle.describe();
    const action = current.action as { workflowType?: string; taskQueue?: string };
    const every = current.spec.intervals?.[0]?.every;
    const everyMs = typeof every === 'number' ? every : undefined;
    if (action.workflowType === options.workflowType && action.taskQueue === options.taskQueue && (everyMs === undefined || everyMs === options.everyMs)) return false;
    await handle.delete();
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
  }
  try {
    await client.schedule.create({
      scheduleId: options.scheduleId,
      spec: { intervals: [{ every: options.everyMs, ...(options.offsetMs ? { offset: options.offsetMs } : {}) }] },
      action: { type: 'startWorkflow', workflowType: options.workflowType, workflowId: options.scheduleId, taskQueue: options.taskQueue, args: [] },
      // Two at once would only race over the same rows.
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    });
    return true;
  } catch (error) {
    // Another process created it at the same moment.
    if (error instanceof ScheduleAlreadyRunning) return false;
    throw error;
  }
}
