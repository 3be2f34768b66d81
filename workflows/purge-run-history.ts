// The purge of run history past its retention (retention/purge-activities.ts):
// started by the `jarvis-retention-purge` schedule, or by an admin through the
// API. Its activities run on the API process's control worker, which holds the
// database; a purge waits for an API that is restarting rather than failing.
import { ApplicationFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { PurgeReport, PurgeRunHistoryInput, RetentionActivities } from '../retention/purge-activities.js';
import { controlTaskQueue } from './scheduled-run.js';

export const PURGE_WORKFLOW = 'purgeRunHistory';

function messageOf(error: unknown): string {
  let current = error as { message?: string; cause?: unknown } | undefined;
  while (current?.cause) current = current.cause as typeof current;
  return current?.message ?? String(error);
}

export async function purgeRunHistory(input: PurgeRunHistoryInput = {}): Promise<PurgeReport> {
  const queue = controlTaskQueue(workflowInfo().taskQueue);
  const retry = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' };
  const control = proxyActivities<RetentionActivities>({ taskQueue: queue, startToCloseTimeout: '1 minute', scheduleToCloseTimeout: '1 hour', retry });
  // Long: an environment's purge goes on batch after batch, heartbeating after each run.
  const purging = proxyActivities<RetentionActivities>({ taskQueue: queue, startToCloseTimeout: '2 hours', heartbeatTimeout: '2 minutes', scheduleToCloseTimeout: '12 hours', retry });
  const start = await control.beginPurge(input);
  try {
    if (!start.dryRun) await purging.archiveHeldHistories();
    for (const environment of start.environments) await purging.purgeEnvironment({ reportId: start.reportId, environment });
  } catch (error) {
    const report = await control.finishPurge({ reportId: start.reportId, error: messageOf(error) });
    throw ApplicationFailure.create({ message: `the purge failed: ${report.error ?? messageOf(error)}`, type: 'PurgeFailed', nonRetryable: true, details: [report] });
  }
  return control.finishPurge({ reportId: start.reportId });
}
