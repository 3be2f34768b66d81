// What purges removed: one report per purge (retention_purges) with its
// counts per environment (retention_purge_counts), as the API, the CLI and the
// web app show them.
import type pg from 'pg';

export interface PurgeCounts {
  environment: string;
  /** Runs removed: projection rows (with their steps) and whatever else they still had. */
  runs: number;
  logLines: number;
  /** Temporal executions of removed runs that are gone (deleted now, or by an earlier interrupted try). */
  histories: number;
  /** Runs whose artifacts were deleted. */
  artifactRuns: number;
  /** Artifacts deleted, as the artifact store counted them (0 in a dry run). */
  artifacts: number;
}

export interface PurgeReport {
  id: string;
  /** schedule or manual. */
  trigger: string;
  requestedBy: string | null;
  dryRun: boolean;
  /** running, succeeded or failed. */
  status: string;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
  environments: PurgeCounts[];
  totals: Omit<PurgeCounts, 'environment'>;
}

export const ZERO_COUNTS = { runs: 0, logLines: 0, histories: 0, artifactRuns: 0, artifacts: 0 };

export interface PurgeRow {
  id: string;
  trigger: string;
  requested_by: string | null;
  dry_run: boolean;
  status: string;
  workflow_id: string | null;
  error: string | null;
  started_at: Date;
  finished_at: Date | null;
}

/** Reports with their counts per environment and totals. */
export async function reportsOf(pool: pg.Pool, rows: PurgeRow[]): Promise<PurgeReport[]> {
  if (rows.length === 0) return [];
  const { rows: counts } = await pool.query<{ purge_id: string; environment: string; runs: number; log_lines: number; histories: number; artifact_runs: number; artifacts: number }>(
    'SELECT * FROM retention_purge_counts WHERE purge_id = ANY($1) ORDER BY environment',
    [rows.map((row) => row.id)],
  );
  return rows.map((row) => {
    const environments = counts
      .filter((count) => count.purge_id === row.id)
      .map((count) => ({ environment: count.environment, runs: count.runs, logLines: count.log_lines, histories: count.histories, artifactRuns: count.artifact_runs, artifacts: count.artifacts }));
    const totals = { ...ZERO_COUNTS };
    for (const counted of environments) for (const key of Object.keys(ZERO_COUNTS) as Array<keyof typeof ZERO_COUNTS>) totals[key] += counted[key];
    return {
      id: row.id,
      trigger: row.trigger,
      requestedBy: row.requested_by,
      dryRun: row.dry_run,
      status: row.status,
      error: row.error,
      startedAt: row.started_at.toISOString(),
      finishedAt: row.finished_at?.toISOString() ?? null,
      environments,
      totals,
    };
  });
}
