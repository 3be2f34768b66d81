// Run reports: per runbook and environment over a time range, from the
// run-summary projection (PostgreSQL), never from Temporal, so a report over
// months of runs is one set of indexed queries.
import type pg from 'pg';

export interface ReportQuery {
  /** The environments the caller may read: nothing outside them is counted. */
  environments: string[];
  /** Runs started at or after `from` and before `to`. */
  from: Date;
  to: Date;
  runbook?: string;
}

export interface StepFailures {
  stepId: string;
  count: number;
}

export interface ApprovalWaiting {
  /** Approval steps decided (approved or rejected). */
  decided: number;
  meanMs: number | null;
  p95Ms: number | null;
}

export interface RunbookReport {
  runbook: string;
  environment: string;
  runs: number;
  running: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  rejected: number;
  /** Succeeded over finished runs (0 to 1); null when none finished. */
  successRate: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  /** Mean time from a failed run's end to the end of the next succeeded run of the same runbook and environment. */
  mttrMs: number | null;
  /** Failed runs followed by a succeeded one (those MTTR is the mean of). */
  recovered: number;
  failuresByStep: StepFailures[];
  approvalWaiting: ApprovalWaiting;
}

export interface RunReport {
  from: string;
  to: string;
  rows: RunbookReport[];
}

const key = (runbook: string, environment: string) => `${runbook}\u0000${environment}`;
/** The runs of the report, the same for every figure: $1 environments, $2 from, $3 to, $4 runbook or null. */
const selectedRuns = (alias: string) => `${alias}.environment = ANY($1) AND ${alias}.started_at >= $2 AND ${alias}.started_at < $3 AND ($4::text IS NULL OR ${alias}.runbook = $4)`;
const roundOrNull = (value: number | string | null) => (value === null ? null : Math.round(Number(value)));

/** A duration for people: 850 ms, 12.5 s, 3.2 min, 1.5 h. */
export function humanDuration(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

export class RunReportService {
  constructor(private readonly pool: pg.Pool) {}

  async report(query: ReportQuery): Promise<RunReport> {
    const range = { from: query.from.toISOString(), to: query.to.toISOString() };
    if (query.environments.length === 0) return { ...range, rows: [] };
    const params = [query.environments, query.from, query.to, query.runbook ?? null];
    const [outcomes, recoveries, failures, approvals] = await Promise.all([
      this.pool.query<{
        runbook: string;
        environment: string;
        runs: number;
        running: number;
        succeeded: number;
        failed: number;
        cancelled: number;
        rejected: number;
        p50_ms: number | null;
        p95_ms: number | null;
      }>(
        `SELECT runbook, environment, count(*)::int AS runs,
                count(*) FILTER (WHERE status = 'running')::int AS running,
                count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
                count(*) FILTER (WHERE status = 'failed')::int AS failed,
                count(*) FILTER (WHERE status = 'cancelled')::int AS cancelled,
                count(*) FILTER (WHERE status = 'rejected')::int AS rejected,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM ended_at - started_at) * 1000) FILTER (WHERE ended_at IS NOT NULL) AS p50_ms,
                percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM ended_at - started_at) * 1000) FILTER (WHERE ended_at IS NOT NULL) AS p95_ms
         FROM run_summaries s WHERE ${selectedRuns('s')}
         GROUP BY runbook, environment ORDER BY runbook, environment`,
        params,
      ),
      // The recovery may come after the range: a failure at its end still has its time to recover.
      this.pool.query<{ runbook: string; environment: string; recovered: number; mttr_ms: number | null }>(
        `SELECT f.runbook, f.environment, count(r.ended_at)::int AS recovered,
                avg(extract(epoch FROM r.ended_at - f.ended_at) * 1000) AS mttr_ms
         FROM run_summaries f
         LEFT JOIN LATERAL (
           SELECT s.ended_at FROM run_summaries s
           WHERE s.runbook = f.runbook AND s.environment = f.environment AND s.status = 'succeeded' AND s.ended_at > f.ended_at
           ORDER BY s.ended_at LIMIT 1
         ) r ON true
         WHERE ${selectedRuns('f')}
           AND f.status = 'failed' AND f.ended_at IS NOT NULL
         GROUP BY f.runbook, f.environment`,
        params,
      ),
      this.pool.query<{ runbook: string; environment: string; step_id: string; count: number }>(
        `SELECT s.runbook, s.environment, st.data->>'id' AS step_id, count(*)::int AS count
         FROM run_summaries s JOIN run_summary_steps st ON st.workflow_id = s.workflow_id
         WHERE ${selectedRuns('s')}
           AND s.status = 'failed' AND st.data->>'status' = 'failed'
         GROUP BY 1, 2, 3 ORDER BY count DESC, step_id`,
        params,
      ),
      // Decided when rejected, or at the approval that reached the required count.
      this.pool.query<{ runbook: string; environment: string; decided: number; mean_ms: number | null; p95_ms: number | null }>(
        `WITH decisions AS (
           SELECT s.runbook, s.environment, (st.data->>'startedAt')::timestamptz AS started,
                  coalesce((st.data->'approval'->'rejectedBy'->>'at')::timestamptz,
                           CASE WHEN jsonb_array_length(st.data->'approval'->'approvedBy') >= (st.data->'approval'->>'required')::int
                                THEN (st.data->'approval'->'approvedBy'->((st.data->'approval'->>'required')::int - 1)->>'at')::timestamptz END) AS decided
           FROM run_summaries s JOIN run_summary_steps st ON st.workflow_id = s.workflow_id
           WHERE ${selectedRuns('s')}
             AND st.data->>'kind' = 'approval' AND st.data->>'startedAt' IS NOT NULL
         )
         SELECT runbook, environment, count(*)::int AS decided,
                avg(extract(epoch FROM decided - started) * 1000) AS mean_ms,
                percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM decided - started) * 1000) AS p95_ms
         FROM decisions WHERE decided IS NOT NULL GROUP BY 1, 2`,
        params,
      ),
    ]);
    const recoveryOf = new Map(recoveries.rows.map((row) => [key(row.runbook, row.environment), row]));
    const approvalOf = new Map(approvals.rows.map((row) => [key(row.runbook, row.environment), row]));
    const failuresOf = new Map<string, StepFailures[]>();
    for (const row of failures.rows) {
      const list = failuresOf.get(key(row.runbook, row.environment)) ?? [];
      list.push({ stepId: row.step_id, count: row.count });
      failuresOf.set(key(row.runbook, row.environment), list);
    }
    const rows = outcomes.rows.map((row): RunbookReport => {
      const id = key(row.runbook, row.environment);
      const finished = row.succeeded + row.failed + row.cancelled + row.rejected;
      const recovery = recoveryOf.get(id);
      const approval = approvalOf.get(id);
      return {
        runbook: row.runbook,
        environment: row.environment,
        runs: row.runs,
        running: row.running,
        succeeded: row.succeeded,
        failed: row.failed,
        cancelled: row.cancelled,
        rejected: row.rejected,
        successRate: finished === 0 ? null : row.succeeded / finished,
        p50Ms: roundOrNull(row.p50_ms),
        p95Ms: roundOrNull(row.p95_ms),
        mttrMs: roundOrNull(recovery?.mttr_ms ?? null),
        recovered: recovery?.recovered ?? 0,
        failuresByStep: failuresOf.get(id) ?? [],
        approvalWaiting: { decided: approval?.decided ?? 0, meanMs: roundOrNull(approval?.mean_ms ?? null), p95Ms: roundOrNull(approval?.p95_ms ?? null) },
      };
    });
    return { ...range, rows };
  }
}
