// The run-summary projection: each run's progress as its workflow last
// published it, so reading a run does not need Temporal. Written only by the
// run's own workflow (a local activity) or rebuilt from Temporal; Temporal
// stays the source of truth (see DESIGN.md, "One source of truth per fact").
import type pg from 'pg';
import type { RunProgress, StepProgress } from '../workflows/messages.js';
import { insertNotificationEvents, runEventsOf } from '../notifications/events.js';
import type { ListRunsFilter, RunPage } from './run-contract.js';
import { RunListQuery } from './run-list-query.js';

export interface RunSummaryUpdate {
  workflowId: string;
  /** The Temporal execution publishing this (a resumed run continues in a new one). */
  executionId: string;
  /** The publisher's counter: an older write never replaces a newer one. */
  sequence: number;
  /** Whether `steps` holds every step of the run (a first write, or a rebuild). */
  complete: boolean;
  run: Omit<RunProgress, 'steps'>;
  /** Changed steps by position in the run's step list; on a first write, all of them. */
  steps: Array<{ position: number; step: StepProgress }>;
  /** A child runbook's parent run: its start and end are part of the parent's, and are not notified on their own. */
  parentRunId?: string;
  /** The run publishes every step change (throttled), so its row is fresh while it runs. */
  liveSteps?: boolean;
}

export interface WaitingApproval {
  runId: string;
  runbook: string;
  environment: string;
  startedBy: string;
  runStartedAt: string;
  step: StepProgress;
}

export interface DailyOutcome {
  day: string;
  succeeded: number;
  failed: number;
  cancelled: number;
  p95Ms: number | null;
}

export type RecordAnswer = 'stored' | 'stale' | 'resend-all';

export interface StoredRunSummary {
  workflowId: string;
  executionId: string;
  progress: RunProgress;
  updatedAt: string;
  /** Its steps are published as they change, not only at approvals and at the end. */
  liveSteps: boolean;
}


export class RunSummaryStore {
  private readonly lists: RunListQuery;

  constructor(private readonly pool: pg.Pool) {
    this.lists = new RunListQuery(pool);
  }

  /** One page of runs, newest first, with GET /runs's filters. */
  listPage(filter: ListRunsFilter): Promise<RunPage> {
    return this.lists.page(filter);
  }

  /**
   * Applies one published update. 'stale': a newer write of the same execution
   * is stored already. 'resend-all': the stored row is missing or belongs to
   * another execution, and a partial update cannot replace it.
   */
  async record(update: RunSummaryUpdate): Promise<RecordAnswer> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`run-summary:${update.workflowId}`]);
      const { rows } = await client.query<{ execution_id: string; sequence: number; status: string }>(
        'SELECT execution_id, sequence, status FROM run_summaries WHERE workflow_id = $1',
        [update.workflowId],
      );
      const stored = rows[0];
      const sameExecution = stored?.execution_id === update.executionId;
      if (sameExecution && stored!.sequence >= update.sequence) {
        await client.query('ROLLBACK');
        return 'stale';
      }
      // A run purged past its retention (retention/): its execution is not projected again while Temporal deletes it.
      if (!stored) {
        const purged = await client.query('SELECT 1 FROM run_purge_marks WHERE workflow_id = $1 AND purged_execution_id = $2', [update.workflowId, update.executionId]);
        if (purged.rowCount !== 0) {
          await client.query('ROLLBACK');
          return 'stale';
        }
      }
      if (!sameExecution && !update.complete) {
        await client.query('ROLLBACK');
        return 'resend-all';
      }
      if (stored && stored.execution_id !== update.executionId) {
        await client.query('DELETE FROM run_summary_steps WHERE workflow_id = $1', [update.workflowId]);
      }
      const { run } = update;
      const { runbook, version, environment, startedBy, rerunOf, status, startedAt, endedAt, error, ...rest } = run;
      await client.query(
        `INSERT INTO run_summaries (workflow_id, execution_id, runbook, version, environment, started_by, rerun_of, status,
                                    started_at, ended_at, error, progress, sequence, live_steps, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, now())
         ON CONFLICT (workflow_id) DO UPDATE SET execution_id = EXCLUDED.execution_id, runbook = EXCLUDED.runbook,
           version = EXCLUDED.version, environment = EXCLUDED.environment, started_by = EXCLUDED.started_by,
           rerun_of = EXCLUDED.rerun_of, status = EXCLUDED.status, started_at = EXCLUDED.started_at,
           ended_at = EXCLUDED.ended_at, error = EXCLUDED.error, progress = EXCLUDED.progress,
           sequence = EXCLUDED.sequence, live_steps = EXCLUDED.live_steps, updated_at = now()`,
        [
          update.workflowId,
          update.executionId,
          runbook,
          version,
          environment,
          startedBy,
          rerunOf ?? null,
          status,
          startedAt,
          endedAt ?? null,
          error ?? null,
          JSON.stringify(rest),
          update.sequence,
          update.liveSteps ?? false,
        ],
      );
      if (update.steps.length > 0) {
        await client.query(
          `INSERT INTO run_summary_steps (workflow_id, position, data)
           SELECT $1, step.position, step.data FROM unnest($2::int[], $3::jsonb[]) AS step(position, data)
           ON CONFLICT (workflow_id, position) DO UPDATE SET data = EXCLUDED.data`,
          [update.workflowId, update.steps.map((entry) => entry.position), update.steps.map((entry) => JSON.stringify(entry.step))],
        );
      }
      // Notifications of what this write changed, in the same transaction: stored with it or not at all.
      await insertNotificationEvents(client, runEventsOf(stored ? { executionId: stored.execution_id, status: stored.status } : undefined, update));
      await client.query('COMMIT');
      return 'stored';
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async find(workflowId: string): Promise<StoredRunSummary | undefined> {
    const { rows } = await this.pool.query<{
      workflow_id: string;
      execution_id: string;
      runbook: string;
      version: string;
      environment: string;
      started_by: string;
      rerun_of: string | null;
      status: RunProgress['status'];
      started_at: Date;
      ended_at: Date | null;
      error: string | null;
      progress: Pick<RunProgress, 'compensations'>;
      updated_at: Date;
      live_steps: boolean;
      steps: StepProgress[];
    }>(
      `SELECT s.*, (SELECT coalesce(jsonb_agg(data ORDER BY position), '[]'::jsonb) FROM run_summary_steps WHERE workflow_id = s.workflow_id) AS steps
       FROM run_summaries s WHERE s.workflow_id = $1`,
      [workflowId],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      workflowId: row.workflow_id,
      executionId: row.execution_id,
      updatedAt: row.updated_at.toISOString(),
      liveSteps: row.live_steps,
      progress: {
        ...row.progress,
        runbook: row.runbook,
        version: row.version,
        environment: row.environment,
        startedBy: row.started_by,
        ...(row.rerun_of ? { rerunOf: row.rerun_of } : {}),
        status: row.status,
        startedAt: row.started_at.toISOString(),
        ...(row.ended_at ? { endedAt: row.ended_at.toISOString() } : {}),
        ...(row.error ? { error: row.error } : {}),
        steps: row.steps,
      },
    };
  }

  /** Approval steps waiting for a decision in these environments, oldest first. */
  async waitingApprovals(environments: string[]): Promise<WaitingApproval[]> {
    if (environments.length === 0) return [];
    const { rows } = await this.pool.query<{ workflow_id: string; runbook: string; environment: string; started_by: string; started_at: Date; data: StepProgress }>(
      `SELECT s.workflow_id, s.runbook, s.environment, s.started_by, s.started_at, st.data
       FROM run_summaries s JOIN run_summary_steps st ON st.workflow_id = s.workflow_id
       WHERE s.status = 'running' AND s.environment = ANY($1) AND st.data->>'status' = 'waiting' AND st.data->>'kind' = 'approval'
         -- decided already (the run moves on in a moment): not waiting any more
         AND st.data->'approval'->'rejectedBy' IS NULL
         AND jsonb_array_length(st.data->'approval'->'approvedBy') < (st.data->'approval'->>'required')::int
       ORDER BY st.data->>'startedAt', s.workflow_id LIMIT 500`,
      [environments],
    );
    return rows.map((row) => ({
      runId: row.workflow_id,
      runbook: row.runbook,
      environment: row.environment,
      startedBy: row.started_by,
      runStartedAt: row.started_at.toISOString(),
      step: row.data,
    }));
  }

  /** Finished runs per day and outcome, with the 95th percentile of their duration. */
  async dailyOutcomes(environments: string[], days: number): Promise<DailyOutcome[]> {
    if (environments.length === 0) return [];
    const { rows } = await this.pool.query<{ day: string; succeeded: number; failed: number; cancelled: number; p95_ms: number | null }>(
      `SELECT to_char(date_trunc('day', ended_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day,
              count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
              count(*) FILTER (WHERE status IN ('failed', 'rejected'))::int AS failed,
              count(*) FILTER (WHERE status = 'cancelled')::int AS cancelled,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM ended_at - started_at) * 1000) AS p95_ms
       FROM run_summaries
       WHERE environment = ANY($1) AND ended_at IS NOT NULL AND ended_at >= now() - make_interval(days => $2)
       GROUP BY 1 ORDER BY 1`,
      [environments, days],
    );
    return rows.map((row) => ({ day: row.day, succeeded: row.succeeded, failed: row.failed, cancelled: row.cancelled, p95Ms: row.p95_ms === null ? null : Math.round(row.p95_ms) }));
  }

  /** Runs that failed (or were rejected) in the last `hours`. */
  async recentFailures(environments: string[], hours: number, limit = 10): Promise<Array<{ runId: string; runbook: string; environment: string; endedAt: string; error: string | null }>> {
    if (environments.length === 0) return [];
    const { rows } = await this.pool.query<{ workflow_id: string; runbook: string; environment: string; ended_at: Date; error: string | null }>(
      `SELECT workflow_id, runbook, environment, ended_at, error FROM run_summaries
       WHERE environment = ANY($1) AND status IN ('failed', 'rejected') AND ended_at >= now() - make_interval(hours => $2)
       ORDER BY ended_at DESC LIMIT $3`,
      [environments, hours, limit],
    );
    return rows.map((row) => ({ runId: row.workflow_id, runbook: row.runbook, environment: row.environment, endedAt: row.ended_at.toISOString(), error: row.error }));
  }

  async countRunning(environments: string[]): Promise<number> {
    const { rows } = await this.pool.query<{ count: number }>(`SELECT count(*)::int AS count FROM run_summaries WHERE status = 'running' AND environment = ANY($1)`, [environments]);
    return rows[0]?.count ?? 0;
  }

  async forget(workflowId: string): Promise<void> {
    await this.pool.query('DELETE FROM run_summaries WHERE workflow_id = $1', [workflowId]);
  }
}
