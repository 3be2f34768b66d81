// Lists of runs from the run-summary projection: every filter of GET /runs as
// SQL, newest first, paged by a keyset cursor (started_at, workflow_id), so a
// page costs the same at row 100,000 as at row 1.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { JarvisProblem } from '../manifest/errors.js';
import { TEMPORAL_STATUS_OF, type ListRunsFilter, type RunPage, type RunSummary } from './run-contract.js';

/** How the projection's repair words the end of a run its workflow could not record. */
export const EXTERNAL_END_ERRORS = { TERMINATED: 'the run was terminated in Temporal', TIMED_OUT: 'the run timed out in Temporal' } as const;

/** The projection's statuses each status word of the API selects. */
const STATUSES_OF: Record<string, { statuses: string[]; error?: string }> = {
  running: { statuses: ['running'] },
  completed: { statuses: ['succeeded'] },
  succeeded: { statuses: ['succeeded'] },
  failed: { statuses: ['failed', 'rejected'] },
  cancelled: { statuses: ['cancelled'] },
  canceled: { statuses: ['cancelled'] },
  // Ended from outside the workflow: the projection's repair records them as failed with this error.
  terminated: { statuses: ['failed'], error: `${EXTERNAL_END_ERRORS.TERMINATED}%` },
  'timed-out': { statuses: ['failed'], error: `${EXTERNAL_END_ERRORS.TIMED_OUT}%` },
};

interface ListedRow {
  workflow_id: string;
  execution_id: string;
  runbook: string;
  environment: string;
  started_by: string;
  rerun_of: string | null;
  status: keyof typeof TEMPORAL_STATUS_OF;
  started_at: Date;
  ended_at: Date | null;
  held: boolean;
}

/** The filters a cursor was made for: a cursor from another list is refused rather than misread. */
function filterTag(filter: ListRunsFilter): string {
  const { cursor: _cursor, limit: _limit, ...rest } = filter;
  const normalized = Object.entries(rest)
    .filter(([, value]) => value !== undefined)
    .sort(([a], [b]) => a.localeCompare(b));
  return createHash('sha256').update(JSON.stringify(normalized)).digest('base64url').slice(0, 12);
}

function writeCursor(filter: ListRunsFilter, row: ListedRow): string {
  return `${filterTag(filter)}.${Buffer.from(JSON.stringify([row.started_at.toISOString(), row.workflow_id])).toString('base64url')}`;
}

function readCursor(filter: ListRunsFilter, cursor: string): [string, string] {
  const [tag, position] = cursor.split('.');
  const invalid = new JarvisProblem('the cursor does not belong to this list (were the filters changed?); list again from the first page', 'invalid');
  if (!tag || !position || tag !== filterTag(filter)) throw invalid;
  try {
    const [startedAt, workflowId] = JSON.parse(Buffer.from(position, 'base64url').toString('utf8')) as unknown[];
    if (typeof startedAt !== 'string' || Number.isNaN(Date.parse(startedAt)) || typeof workflowId !== 'string') throw invalid;
    return [startedAt, workflowId];
  } catch {
    throw invalid;
  }
}

function parseBound(bound: string): string {
  if (Number.isNaN(Date.parse(bound))) throw new JarvisProblem(`"${bound}" is not a date and time (use ISO 8601, e.g. 2026-11-23T10:00:00Z)`, 'invalid');
  return new Date(bound).toISOString();
}

function summaryOf(row: ListedRow): RunSummary {
  return {
    id: row.workflow_id,
    runId: row.execution_id,
    runbook: row.runbook,
    environment: row.environment,
    startedBy: row.started_by,
    ...(row.rerun_of ? { rerunOf: row.rerun_of } : {}),
    status: TEMPORAL_STATUS_OF[row.status],
    startedAt: row.started_at.toISOString(),
    ...(row.ended_at ? { closedAt: row.ended_at.toISOString() } : {}),
    ...(row.held ? { held: true } : {}),
  };
}

export class RunListQuery {
  constructor(private readonly pool: pg.Pool) {}

  async page(filter: ListRunsFilter): Promise<RunPage> {
    if (filter.environments?.length === 0) return { runs: [] };
    const values: unknown[] = [];
    const clauses: string[] = [];
    const where = (sql: (placeholder: string) => string, value: unknown) => {
      values.push(value);
      clauses.push(sql(`$${values.length}`));
    };
    if (filter.runbook) where((p) => `runbook = ${p}`, filter.runbook);
    if (filter.environment) where((p) => `environment = ${p}`, filter.environment);
    if (filter.environments) where((p) => `environment = ANY(${p})`, filter.environments);
    if (filter.startedBy) where((p) => `started_by = ${p}`, filter.startedBy);
    if (filter.schedule) where((p) => `workflow_id IN (SELECT run_id FROM schedule_fires WHERE schedule_id::text = ${p} AND run_id IS NOT NULL)`, filter.schedule);
    if (filter.status) {
      const selected = STATUSES_OF[filter.status.toLowerCase()];
      if (!selected) throw new JarvisProblem(`unknown status "${filter.status}" (use ${Object.keys(STATUSES_OF).join(', ')})`, 'invalid');
      where((p) => `status = ANY(${p})`, selected.statuses);
      if (selected.error) where((p) => `error LIKE ${p}`, selected.error);
    }
    if (filter.startedAfter !== undefined) where((p) => `started_at >= ${p}`, parseBound(filter.startedAfter));
    if (filter.startedBefore !== undefined) where((p) => `started_at < ${p}`, parseBound(filter.startedBefore));
    if (filter.cursor) {
      const [startedAt, workflowId] = readCursor(filter, filter.cursor);
      values.push(startedAt, workflowId);
      clauses.push(`(started_at, workflow_id) < ($${values.length - 1}::timestamptz, $${values.length})`);
    }
    const limit = filter.limit ?? 50;
    values.push(limit + 1);
    const { rows } = await this.pool.query<ListedRow>(
      `SELECT workflow_id, execution_id, runbook, environment, started_by, rerun_of, status, started_at, ended_at,
              EXISTS (SELECT 1 FROM run_holds h WHERE h.workflow_id = run_summaries.workflow_id) AS held
       FROM run_summaries ${clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : ''}
       ORDER BY started_at DESC, workflow_id DESC LIMIT $${values.length}`,
      values,
    );
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return { runs: page.map(summaryOf), ...(rows.length > limit && last ? { nextCursor: writeCursor(filter, last) } : {}) };
  }
}
