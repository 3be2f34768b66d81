// Runs held out of retention: a held run is never purged (its rows, log lines,
// artifacts and Temporal execution stay). The namespace's retention still
// drops a closed execution from Temporal, so a held run's history is archived
// here once it closed: when it is held, or by the next purge for a run held
// while it was running.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import type pg from 'pg';
import { JarvisProblem } from '../manifest/errors.js';

/** A purge's claim older than this was left by a purge that died: it no longer stops a hold. */
export const STALE_CLAIM_MINUTES = 10;

export interface RunHoldView {
  reason: string;
  heldBy: string;
  heldAt: string;
  /** When its Temporal history was archived; null while the run runs (the next purge archives it). */
  historyArchivedAt: string | null;
}

export interface ArchivedHistory {
  executionId: string;
  /** Temporal's history as JSON (historyToJSON), payloads encrypted as Temporal holds them. */
  history: unknown;
}

interface HoldRow {
  reason: string;
  held_by: string;
  held_at: Date;
  history_archived_at: Date | null;
}

const viewOf = (row: HoldRow): RunHoldView => ({ reason: row.reason, heldBy: row.held_by, heldAt: row.held_at.toISOString(), historyArchivedAt: row.history_archived_at?.toISOString() ?? null });

export class RunHolds {
  constructor(private readonly pool: pg.Pool) {}

  async find(workflowId: string): Promise<RunHoldView | undefined> {
    const { rows } = await this.pool.query<HoldRow>('SELECT reason, held_by, held_at, history_archived_at FROM run_holds WHERE workflow_id = $1', [workflowId]);
    return rows[0] ? viewOf(rows[0]) : undefined;
  }

  /**
   * Holds a run (again: the reason and holder are replaced). The run's
   * projection row is share-locked while the hold is written, so a purge that
   * already chose the run finishes first (and the hold then finds no run),
   * and a purge that starts later sees the hold.
   */
  async hold(workflowId: string, environment: string, reason: string, heldBy: string): Promise<{ view: RunHoldView; runStillExists: boolean }> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const projection = await client.query('SELECT 1 FROM run_summaries WHERE workflow_id = $1 FOR SHARE', [workflowId]);
      const claimed = await client.query(`SELECT 1 FROM run_purge_marks WHERE workflow_id = $1 AND purging_at > now() - make_interval(mins => $2)`, [workflowId, STALE_CLAIM_MINUTES]);
      if (claimed.rowCount !== 0) throw new JarvisProblem(`run ${workflowId} is being purged (it is past its retention); it can no longer be held`, 'conflict');
      const { rows } = await client.query<HoldRow>(
        `INSERT INTO run_holds (workflow_id, environment, reason, held_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (workflow_id) DO UPDATE SET reason = $3, held_by = $4, held_at = now()
         RETURNING reason, held_by, held_at, history_archived_at`,
        [workflowId, environment, reason, heldBy],
      );
      await client.query('COMMIT');
      return { view: viewOf(rows[0]!), runStillExists: projection.rowCount !== 0 };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** Ends a hold; false when the run was not held. */
  async release(workflowId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM run_holds WHERE workflow_id = $1', [workflowId]);
    return rowCount !== 0;
  }

  async archiveHistory(workflowId: string, archived: ArchivedHistory): Promise<void> {
    await this.pool.query('UPDATE run_holds SET history = $2, history_execution_id = $3, history_archived_at = now() WHERE workflow_id = $1', [
      workflowId,
      JSON.stringify(archived.history),
      archived.executionId,
    ]);
  }

  /** The archived history of a held run, when its execution is the one asked for (or any, without one). */
  async archivedHistory(workflowId: string, executionId?: string): Promise<ArchivedHistory | undefined> {
    const { rows } = await this.pool.query<{ history: unknown; history_execution_id: string }>('SELECT history, history_execution_id FROM run_holds WHERE workflow_id = $1 AND history IS NOT NULL', [
      workflowId,
    ]);
    const row = rows[0];
    if (!row || (executionId && row.history_execution_id !== executionId)) return undefined;
    return { executionId: row.history_execution_id, history: row.history };
  }

  /** Held runs of which no closed execution's history is archived yet. */
  async withoutArchive(limit: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ workflow_id: string }>('SELECT workflow_id FROM run_holds WHERE history IS NULL ORDER BY held_at LIMIT $1', [limit]);
    return rows.map((row) => row.workflow_id);
  }
}

/** Archives a held run's history once it closed; false while it runs (or when Temporal no longer has it). */
export async function archiveHistoryIfClosed(temporal: Client, holds: RunHolds, workflowId: string): Promise<boolean> {
  const handle = temporal.workflow.getHandle(workflowId);
  try {
    const description = await handle.describe();
    if (description.status.name === 'RUNNING') return false;
    const history = await temporal.workflow.getHandle(workflowId, description.runId).fetchHistory();
    await holds.archiveHistory(workflowId, { executionId: description.runId, history: JSON.parse(historyToJSON(history)) as unknown });
    return true;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}
