// Work a node verifiably did in a period: the activity tasks its agent
// completed (or failed) on the node's task queue, as the runs' Temporal
// histories record them. Temporal is the source of truth of what ran where;
// the run-summary projection only says which runs to read.
import type { Client } from '@temporalio/client';
import type pg from 'pg';

export interface NodeWork {
  done: number;
  failed: number;
}

type Timestamp = { seconds?: unknown; nanos?: number | null } | null | undefined;
const millisOf = (time: Timestamp) => Number(time?.seconds ?? 0) * 1_000 + Math.floor((time?.nanos ?? 0) / 1_000_000);

/** Per task queue (each node's agent polls its own), what ended within [start, end). */
export async function nodeWorkIn(temporal: Client, pool: pg.Pool, period: { start: Date; end: Date }, taskQueues: ReadonlySet<string>, onRun?: () => void): Promise<Map<string, NodeWork>> {
  const work = new Map<string, NodeWork>();
  if (taskQueues.size === 0) return work;
  const { rows } = await pool.query<{ workflow_id: string; execution_id: string }>(
    'SELECT workflow_id, execution_id FROM run_summaries WHERE started_at < $2 AND (ended_at IS NULL OR ended_at >= $1)',
    [period.start, period.end],
  );
  for (const run of rows) {
    onRun?.();
    let history;
    try {
      history = await temporal.workflow.getHandle(run.workflow_id, run.execution_id).fetchHistory();
    } catch {
      // Purged from Temporal already: nothing of it can be verified any more.
      continue;
    }
    const queueOf = new Map<string, string>();
    for (const event of history.events ?? []) {
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (scheduled?.taskQueue?.name && taskQueues.has(scheduled.taskQueue.name)) queueOf.set(String(event.eventId), scheduled.taskQueue.name);
      const ended = event.activityTaskCompletedEventAttributes ?? event.activityTaskFailedEventAttributes ?? event.activityTaskTimedOutEventAttributes;
      const queue = ended ? queueOf.get(String(ended.scheduledEventId)) : undefined;
      const at = millisOf(event.eventTime);
      if (!queue || at < period.start.getTime() || at >= period.end.getTime()) continue;
      const counts = work.get(queue) ?? { done: 0, failed: 0 };
      if (event.activityTaskCompletedEventAttributes) counts.done += 1;
      else counts.failed += 1;
      work.set(queue, counts);
    }
  }
  return work;
}
