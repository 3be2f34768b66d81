// The purge of run history past its retention, performed by the API process's
// control worker (api/control-worker.ts): it needs the database, which the
// action worker's sandbox must not reach (DESIGN.md, "Trust boundaries").
//
// Per environment, closed runs that ended before the cutoffs lose, oldest
// first: everything (their artifacts, Temporal executions, log lines and
// projection rows) past the runs retention; their log lines past the logs
// retention; their artifacts past the artifacts retention. Held runs and
// running runs are never touched.
//
// Runs are chosen by the projection's ended_at (run_summaries), not by
// Temporal's close time: the projection is what Jarvis keeps per run, and the
// cutoffs of one purge are taken from its start, so a retried activity
// chooses the same runs. Each run is claimed (run_purge_marks.purging_at,
// under its row lock) before anything outside the database is deleted, so a
// hold placed meanwhile is refused rather than lost; it is counted in the same
// transaction that deletes its rows, so an interrupted purge that is run again
// counts every run once.
import { inTransaction as inPoolTransaction } from '../db/transaction.js';
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ApplicationFailure, defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type pg from 'pg';
import type { AuditRecord } from '../api/services/audit-service.js';
import { isKeyedRunId } from '../runs/run-ids.js';
import { setNamespaceRetention } from './namespace-retention.js';
import { retentionMs, type RetentionPolicies } from './retention-policies.js';
import { archiveHistoryIfClosed, type RunHolds } from './run-holds.js';
import { reportsOf, ZERO_COUNTS, type PurgeCounts, type PurgeReport, type PurgeRow } from './purge-reports.js';

export type { PurgeCounts, PurgeReport } from './purge-reports.js';

/**
 * Deletes a run's artifacts; answers how many were deleted (0 when none are
 * left, so calling it again is harmless). Wired by the artifact store.
 */
export interface RunArtifactPurger {
  deleteRunArtifacts(workflowId: string): Promise<number>;
}

export interface PurgeRunHistoryInput {
  /** A purge an admin asked for: its report row, written by the API before the workflow started. */
  reportId?: string;
}

export interface PurgeStart {
  reportId: string;
  dryRun: boolean;
  environments: string[];
}

export interface RetentionActivities {
  beginPurge(input: PurgeRunHistoryInput): Promise<PurgeStart>;
  archiveHeldHistories(): Promise<number>;
  purgeEnvironment(input: { reportId: string; environment: string }): Promise<PurgeCounts>;
  finishPurge(input: { reportId: string; error?: string }): Promise<PurgeReport>;
}

/** Crash points for tests: thrown errors interrupt the purge as a killed API would. */
export interface PurgeHooks {
  /** After a run's Temporal execution was deleted, before its rows are. */
  afterHistoryDeleted?(workflowId: string): void | Promise<void>;
}

export interface RetentionActivityDependencies {
  pool: pg.Pool;
  temporal: Client;
  policies: RetentionPolicies;
  holds: RunHolds;
  audit: { record(entry: AuditRecord): Promise<void> };
  /** The schedule whose fires may purge (`jarvis-retention-purge`). */
  scheduleId: string;
  /** Deletes a run's artifacts; without it artifacts are left to their store. */
  artifacts?: RunArtifactPurger;
  batchSize?: number;
  hooks?: PurgeHooks;
}

/** Set by Temporal itself on the workflows a schedule starts; clients cannot set it. */
const SCHEDULED_BY_ATTRIBUTE = defineSearchAttributeKey('TemporalScheduledById', SearchAttributeType.KEYWORD);

function isNotFound(error: unknown): boolean {
  return error instanceof WorkflowNotFoundError || (error as { code?: number }).code === 5;
}

export function createRetentionActivities(dependencies: RetentionActivityDependencies): RetentionActivities {
  const { pool, temporal, policies, holds, audit, artifacts, hooks = {} } = dependencies;
  const batchSize = dependencies.batchSize ?? 100;
  const namespace = temporal.options.namespace;

  const report = async (reportId: string): Promise<PurgeReport> => {
    const { rows } = await pool.query<PurgeRow>('SELECT * FROM retention_purges WHERE id = $1', [reportId]);
    const row = rows[0];
    if (!row) throw new Error(`no purge ${reportId}`);
    return (await reportsOf(pool, [row]))[0]!;
  };

  const purgeRow = async (reportId: string): Promise<PurgeRow> => {
    const { rows } = await pool.query<PurgeRow>('SELECT * FROM retention_purges WHERE id = $1', [reportId]);
    if (!rows[0]) throw new Error(`no purge ${reportId}`);
    return rows[0];
  };

  const addCounts = async (client: pg.PoolClient | pg.Pool, reportId: string, environment: string, counts: Partial<typeof ZERO_COUNTS>) => {
    const value = { ...ZERO_COUNTS, ...counts };
    await client.query(
      `INSERT INTO retention_purge_counts (purge_id, environment, runs, log_lines, histories, artifact_runs, artifacts) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (purge_id, environment) DO UPDATE SET runs = retention_purge_counts.runs + $3, log_lines = retention_purge_counts.log_lines + $4,
         histories = retention_purge_counts.histories + $5, artifact_runs = retention_purge_counts.artifact_runs + $6, artifacts = retention_purge_counts.artifacts + $7`,
      [reportId, environment, value.runs, value.logLines, value.histories, value.artifactRuns, value.artifacts],
    );
  };

  /** In one transaction; rolled back on any error. */
  const inTransaction = <T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> => inPoolTransaction(pool, work);

  /** Claims a run for deletion outside the database, unless it is held (or running) now. */
  const claim = (workflowId: string, stillEligible: string, parameters: unknown[]) =>
    inTransaction(async (client) => {
      const { rowCount } = await client.query(
        `SELECT 1 FROM run_summaries s WHERE s.workflow_id = $1 AND s.status <> 'running' AND s.ended_at IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM run_holds h WHERE h.workflow_id = s.workflow_id) AND ${stillEligible}
         FOR UPDATE OF s`,
        [workflowId, ...parameters],
      );
      if (rowCount === 0) return false;
      await client.query(`INSERT INTO run_purge_marks (workflow_id, purging_at) VALUES ($1, now()) ON CONFLICT (workflow_id) DO UPDATE SET purging_at = now()`, [workflowId]);
      return true;
    });

  const unclaim = (workflowId: string) => pool.query('UPDATE run_purge_marks SET purging_at = NULL WHERE workflow_id = $1', [workflowId]);

  /** Whether any execution of the run is running in Temporal now (a keyed id names the next run on its key once one closes). */
  const runningInTemporal = async (workflowId: string): Promise<boolean> => {
    try {
      return (await temporal.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING';
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  };

  /** Deletes the run's closed executions (the one the projection names; for other ids, the earlier ones a resume left too). */
  const deleteExecutions = async (workflowId: string, executionId: string): Promise<void> => {
    const executions = [executionId];
    if (!isKeyedRunId(workflowId)) {
      for await (const execution of temporal.workflow.list({ query: `WorkflowId = '${workflowId.replace(/'/g, "\\'")}'` })) {
        if (execution.status.name !== 'RUNNING' && !executions.includes(execution.runId)) executions.push(execution.runId);
      }
    }
    for (const runId of executions) {
      try {
        await temporal.workflowService.deleteWorkflowExecution({ namespace, workflowExecution: { workflowId, runId } });
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
  };

  const cutoffsOf = async (environment: string, startedAt: Date) => {
    const retention = retentionMs(await policies.view(environment));
    const before = (ms: number) => new Date(startedAt.getTime() - ms);
    return { runs: before(retention.runs), logs: before(retention.logs), artifacts: before(retention.artifacts) };
  };

  const ELIGIBLE = `s.environment = $1 AND s.status <> 'running' AND s.ended_at IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM run_holds h WHERE h.workflow_id = s.workflow_id)`;

  /** What a purge would remove, without removing anything. */
  const dryCounts = async (environment: string, cutoffs: Awaited<ReturnType<typeof cutoffsOf>>): Promise<Omit<PurgeCounts, 'environment'>> => {
    const { rows } = await pool.query<{ runs: number; run_lines: number; log_lines: number; artifact_runs: number; run_artifact_runs: number }>(
      `SELECT
         (SELECT count(*)::int FROM run_summaries s WHERE ${ELIGIBLE} AND s.ended_at < $2) AS runs,
         (SELECT count(*)::int FROM run_log_lines l JOIN run_summaries s ON s.workflow_id = l.run_id WHERE ${ELIGIBLE} AND s.ended_at < $2) AS run_lines,
         (SELECT count(*)::int FROM run_log_lines l JOIN run_summaries s ON s.workflow_id = l.run_id WHERE ${ELIGIBLE} AND s.ended_at >= $2 AND s.ended_at < $3
            AND NOT EXISTS (SELECT 1 FROM run_purge_marks m WHERE m.workflow_id = s.workflow_id AND m.logs_purged_at IS NOT NULL)) AS log_lines,
         (SELECT count(*)::int FROM run_summaries s WHERE ${ELIGIBLE} AND s.ended_at >= $2 AND s.ended_at < $4
            AND NOT EXISTS (SELECT 1 FROM run_purge_marks m WHERE m.workflow_id = s.workflow_id AND m.artifacts_purged_at IS NOT NULL)) AS artifact_runs,
         (SELECT count(*)::int FROM run_summaries s WHERE ${ELIGIBLE} AND s.ended_at < $2
            AND NOT EXISTS (SELECT 1 FROM run_purge_marks m WHERE m.workflow_id = s.workflow_id AND m.artifacts_purged_at IS NOT NULL)) AS run_artifact_runs`,
      [environment, cutoffs.runs, cutoffs.logs, cutoffs.artifacts],
    );
    const row = rows[0]!;
    return { runs: row.runs, logLines: row.run_lines + row.log_lines, histories: row.runs, artifactRuns: artifacts ? row.artifact_runs + row.run_artifact_runs : 0, artifacts: 0 };
  };

  /** Past the runs retention: everything of the run goes. */
  const purgeRuns = async (reportId: string, environment: string, cutoff: Date): Promise<void> => {
    const skipped: string[] = [];
    for (;;) {
      const { rows } = await pool.query<{ workflow_id: string; execution_id: string; artifacts_purged: boolean }>(
        `SELECT s.workflow_id, s.execution_id,
                EXISTS (SELECT 1 FROM run_purge_marks m WHERE m.workflow_id = s.workflow_id AND m.artifacts_purged_at IS NOT NULL) AS artifacts_purged
         FROM run_summaries s WHERE ${ELIGIBLE} AND s.ended_at < $2 AND NOT (s.workflow_id = ANY($3))
         ORDER BY s.ended_at, s.workflow_id LIMIT $4`,
        [environment, cutoff, skipped, batchSize],
      );
      if (rows.length === 0) return;
      for (const run of rows) {
        Context.current().heartbeat(run.workflow_id);
        if (!(await claim(run.workflow_id, 's.ended_at < $2', [cutoff])) || (await runningInTemporal(run.workflow_id))) {
          await unclaim(run.workflow_id);
          skipped.push(run.workflow_id);
          continue;
        }
        const deletedArtifacts = artifacts && !run.artifacts_purged ? await artifacts.deleteRunArtifacts(run.workflow_id) : undefined;
        await deleteExecutions(run.workflow_id, run.execution_id);
        await hooks.afterHistoryDeleted?.(run.workflow_id);
        await inTransaction(async (client) => {
          const lines = await client.query('DELETE FROM run_log_lines WHERE run_id = $1', [run.workflow_id]);
          const removed = await client.query('DELETE FROM run_summaries WHERE workflow_id = $1', [run.workflow_id]);
          // A tombstone: a read before Temporal's background deletion ends must not rebuild the row (run-summary-store.ts).
          await client.query(`UPDATE run_purge_marks SET purging_at = NULL, logs_purged_at = NULL, artifacts_purged_at = NULL, purged_execution_id = $2 WHERE workflow_id = $1`, [
            run.workflow_id,
            run.execution_id,
          ]);
          // Counted with its rows: a run whose rows an earlier try already removed is not counted again.
          if (removed.rowCount === 0) return;
          await addCounts(client, reportId, environment, {
            runs: 1,
            logLines: lines.rowCount ?? 0,
            histories: 1,
            ...(deletedArtifacts !== undefined ? { artifactRuns: 1, artifacts: deletedArtifacts } : {}),
          });
        });
      }
    }
  };

  /** Past the logs retention only: the run stays, its log lines go. */
  const purgeLogs = async (reportId: string, environment: string, runsCutoff: Date, logsCutoff: Date): Promise<void> => {
    for (;;) {
      Context.current().heartbeat('logs');
      const done = await inTransaction(async (client) => {
        const { rows } = await client.query<{ workflow_id: string }>(
          `SELECT s.workflow_id FROM run_summaries s WHERE ${ELIGIBLE} AND s.ended_at >= $2 AND s.ended_at < $3
             AND NOT EXISTS (SELECT 1 FROM run_purge_marks m WHERE m.workflow_id = s.workflow_id AND m.logs_purged_at IS NOT NULL)
           ORDER BY s.ended_at, s.workflow_id LIMIT $4 FOR UPDATE OF s SKIP LOCKED`,
          [environment, runsCutoff, logsCutoff, batchSize],
        );
        if (rows.length === 0) return true;
        const ids = rows.map((row) => row.workflow_id);
        const lines = await client.query('DELETE FROM run_log_lines WHERE run_id = ANY($1)', [ids]);
        await client.query(
          `INSERT INTO run_purge_marks (workflow_id, logs_purged_at) SELECT id, now() FROM unnest($1::text[]) AS id
           ON CONFLICT (workflow_id) DO UPDATE SET logs_purged_at = now()`,
          [ids],
        );
        await addCounts(client, reportId, environment, { logLines: lines.rowCount ?? 0 });
        return false;
      });
      if (done) return;
    }
  };

  /** Past the artifacts retention only: the run stays, its artifacts go. */
  const purgeArtifacts = async (reportId: string, environment: string, runsCutoff: Date, artifactsCutoff: Date, purger: RunArtifactPurger): Promise<void> => {
    const skipped: string[] = [];
    const eligible = `s.ended_at >= $2 AND s.ended_at < $3
      AND NOT EXISTS (SELECT 1 FROM run_purge_marks m WHERE m.workflow_id = s.workflow_id AND m.artifacts_purged_at IS NOT NULL)`;
    for (;;) {
      const { rows } = await pool.query<{ workflow_id: string }>(
        `SELECT s.workflow_id FROM run_summaries s WHERE ${ELIGIBLE} AND ${eligible} AND NOT (s.workflow_id = ANY($4)) ORDER BY s.ended_at, s.workflow_id LIMIT $5`,
        [environment, runsCutoff, artifactsCutoff, skipped, batchSize],
      );
      if (rows.length === 0) return;
      for (const run of rows) {
        Context.current().heartbeat(run.workflow_id);
        if (!(await claim(run.workflow_id, eligible, [runsCutoff, artifactsCutoff]))) {
          skipped.push(run.workflow_id);
          continue;
        }
        const deleted = await purger.deleteRunArtifacts(run.workflow_id);
        await inTransaction(async (client) => {
          const marked = await client.query('UPDATE run_purge_marks SET artifacts_purged_at = now(), purging_at = NULL WHERE workflow_id = $1 AND artifacts_purged_at IS NULL', [run.workflow_id]);
          if (marked.rowCount !== 0) await addCounts(client, reportId, environment, { artifactRuns: 1, artifacts: deleted });
        });
      }
    }
  };

  return {
    async beginPurge(input) {
      const execution = Context.current().info.workflowExecution;
      if (!execution) throw refused('a purge runs only as the purgeRunHistory workflow');
      if (input.reportId) {
        // Only the API writes a manual purge's row, naming the workflow it starts for it.
        const { rows } = await pool.query<PurgeRow>('SELECT * FROM retention_purges WHERE id = $1', [input.reportId]);
        const row = rows[0];
        // A finished purge's workflow id started again (through Temporal, by anyone) does not purge again.
        if (!row || row.workflow_id !== execution.workflowId || row.status !== 'running') throw refused('this purge was not asked for through the API');
        return { reportId: row.id, dryRun: row.dry_run, environments: (await policies.all()).map((view) => view.environment) };
      }
      const description = await temporal.workflow.getHandle(execution.workflowId, execution.runId).describe();
      if (description.typedSearchAttributes.get(SCHEDULED_BY_ATTRIBUTE) !== dependencies.scheduleId) {
        await audit.record({ action: 'retention.purge.refused', targetType: 'retention', targetId: execution.workflowId, outcome: 'denied', details: { reason: 'not started by its schedule' } });
        throw refused('this purge was neither started by its schedule nor asked for through the API');
      }
      // Environments created since the API started count too: the namespace keeps histories for the longest runs retention.
      await setNamespaceRetention(temporal, await policies.longestRunsMs()).catch((error: unknown) => console.error(`could not set the namespace's retention: ${(error as Error).message}`));
      // One report per fire, named by its execution: a retried activity finds it.
      await pool.query(`INSERT INTO retention_purges (id, trigger, workflow_id) VALUES ($1, 'schedule', $2) ON CONFLICT (id) DO NOTHING`, [execution.runId, execution.workflowId]);
      return { reportId: execution.runId, dryRun: false, environments: (await policies.all()).map((view) => view.environment) };
    },

    async archiveHeldHistories() {
      let archived = 0;
      for (const workflowId of await holds.withoutArchive(500)) {
        Context.current().heartbeat(workflowId);
        if (await archiveHistoryIfClosed(temporal, holds, workflowId)) archived += 1;
      }
      return archived;
    },

    async purgeEnvironment({ reportId, environment }) {
      const row = await purgeRow(reportId);
      const cutoffs = await cutoffsOf(environment, row.started_at);
      if (row.dry_run) {
        // A retried dry run replaces its counts instead of adding them twice.
        await pool.query('DELETE FROM retention_purge_counts WHERE purge_id = $1 AND environment = $2', [reportId, environment]);
        await addCounts(pool, reportId, environment, await dryCounts(environment, cutoffs));
      } else {
        await addCounts(pool, reportId, environment, {});
        await purgeRuns(reportId, environment, cutoffs.runs);
        if (cutoffs.logs > cutoffs.runs) await purgeLogs(reportId, environment, cutoffs.runs, cutoffs.logs);
        if (artifacts && cutoffs.artifacts > cutoffs.runs) await purgeArtifacts(reportId, environment, cutoffs.runs, cutoffs.artifacts, artifacts);
      }
      return (await report(reportId)).environments.find((counts) => counts.environment === environment) ?? { environment, ...ZERO_COUNTS };
    },

    async finishPurge({ reportId, error }) {
      const { rows } = await pool.query<PurgeRow>(`UPDATE retention_purges SET status = $2, error = $3, finished_at = now() WHERE id = $1 AND status = 'running' RETURNING *`, [
        reportId,
        error ? 'failed' : 'succeeded',
        error ?? null,
      ]);
      const finished = await report(reportId);
      // Audited once, by the try that finished it.
      if (rows[0]) {
        await audit.record({
          ...(finished.requestedBy ? { actorEmail: finished.requestedBy } : {}),
          action: finished.dryRun ? 'retention.purge.dry-run' : 'retention.purge',
          targetType: 'retention',
          targetId: reportId,
          outcome: error ? 'failure' : 'success',
          details: { trigger: finished.trigger, totals: finished.totals, environments: finished.environments, ...(error ? { error } : {}) },
        });
      }
      return finished;
    },
  };
}

/** A purge nobody entitled asked for: not retried. */
function refused(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: 'PurgeRefused', nonRetryable: true });
}
