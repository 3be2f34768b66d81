// Retention of run history for the API: each environment's retention, holds
// on runs, purges asked for now and the reports of past purges. The purge
// itself runs as the purgeRunHistory workflow (retention/purge-activities.ts).
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { JarvisProblem } from '../../manifest/errors.js';
import type { PurgeRunHistoryInput } from '../../retention/purge-activities.js';
import { reportsOf, type PurgeReport, type PurgeRow } from '../../retention/purge-reports.js';
import { namespaceRetentionMs, setNamespaceRetention } from '../../retention/namespace-retention.js';
import type { RetentionKind, RetentionPolicies, RetentionView } from '../../retention/retention-policies.js';
import { archiveHistoryIfClosed, type RunHolds, type RunHoldView } from '../../retention/run-holds.js';
import { PURGE_WORKFLOW } from '../../workflows/purge-run-history.js';

export interface RetentionOverview {
  /** How long Temporal keeps every closed execution of the namespace (the longest runs retention). */
  namespaceRetention: string | null;
  environments: RetentionView[];
}

const DAY_MS = 86_400_000;

function days(ms: number | undefined): string | null {
  if (ms === undefined) return null;
  return ms % DAY_MS === 0 ? `${ms / DAY_MS}d` : `${Math.round(ms / 3_600_000)}h`;
}

export class RetentionService {
  constructor(
    private readonly pool: pg.Pool,
    private readonly temporal: Client,
    private readonly taskQueue: string,
    private readonly policies: RetentionPolicies,
    private readonly holds: RunHolds,
  ) {}

  async overview(environments: string[]): Promise<RetentionOverview> {
    const all = await this.policies.all();
    const namespace = await namespaceRetentionMs(this.temporal).catch(() => undefined);
    return { namespaceRetention: days(namespace), environments: all.filter((view) => environments.includes(view.environment)) };
  }

  view(environment: string): Promise<RetentionView> {
    return this.policies.view(environment);
  }

  /** Changes an environment's retention, then the namespace's to cover the longest runs retention. */
  async update(environment: string, change: Partial<Record<RetentionKind, string | null>>, updatedBy: string): Promise<RetentionView & { namespaceRetention: string | null }> {
    const view = await this.policies.update(environment, change, updatedBy);
    return { ...view, namespaceRetention: days(await this.applyNamespaceRetention()) };
  }

  /**
   * Sets Temporal's namespace retention to the longest runs retention. A
   * server that refuses (no right to update namespaces) keeps its own, which
   * the purge then shortens per environment; a shorter one drops histories
   * earlier than Jarvis's retention says, which is logged.
   */
  async applyNamespaceRetention(): Promise<number | undefined> {
    const wanted = await this.policies.longestRunsMs();
    try {
      return await setNamespaceRetention(this.temporal, wanted);
    } catch (error) {
      console.error(`could not set the Temporal namespace's retention to ${days(wanted)}: ${(error as Error).message}`);
      return namespaceRetentionMs(this.temporal).catch(() => undefined);
    }
  }

  findHold(workflowId: string): Promise<RunHoldView | undefined> {
    return this.holds.find(workflowId);
  }

  /** Holds a run; a closed run's Temporal history is archived at once (a running one's by the next purge after it closed). */
  async hold(workflowId: string, environment: string, reason: string, heldBy: string): Promise<RunHoldView> {
    const { runStillExists } = await this.holds.hold(workflowId, environment, reason, heldBy);
    const archived = await archiveHistoryIfClosed(this.temporal, this.holds, workflowId);
    if (!runStillExists && !archived && !(await this.runsInTemporal(workflowId))) {
      // Purged between the authorization and the hold.
      await this.holds.release(workflowId);
      throw new JarvisProblem(`no run with id "${workflowId}"`, 'not-found');
    }
    return (await this.holds.find(workflowId))!;
  }

  /** A held run's history as archived when Temporal no longer has it (Temporal's JSON form). */
  async archivedHistory(workflowId: string, executionId?: string): Promise<unknown> {
    return (await this.holds.archivedHistory(workflowId, executionId))?.history;
  }

  async release(workflowId: string): Promise<void> {
    if (!(await this.holds.release(workflowId))) throw new JarvisProblem(`run ${workflowId} is not held`, 'not-found');
  }

  /** Runs a purge now and answers its report (counts only, nothing deleted, when dry). */
  async purgeNow(requestedBy: string, dryRun: boolean): Promise<PurgeReport> {
    const id = randomUUID();
    const workflowId = `jarvis-retention-purge.manual-${id}`;
    await this.pool.query(`INSERT INTO retention_purges (id, trigger, requested_by, dry_run, workflow_id) VALUES ($1, 'manual', $2, $3, $4)`, [id, requestedBy, dryRun, workflowId]);
    const input: PurgeRunHistoryInput = { reportId: id };
    try {
      await this.temporal.workflow.execute(PURGE_WORKFLOW, { workflowId, taskQueue: this.taskQueue, args: [input] });
    } catch (error) {
      if (!(error instanceof WorkflowFailedError)) throw error;
      // The report says what failed; it is answered like a finished one.
    }
    return (await this.listPurges({ id }))[0]!;
  }

  async listPurges(filter: { id?: string; limit?: number } = {}): Promise<PurgeReport[]> {
    const { rows } = filter.id
      ? await this.pool.query<PurgeRow>('SELECT * FROM retention_purges WHERE id = $1', [filter.id])
      : await this.pool.query<PurgeRow>('SELECT * FROM retention_purges ORDER BY started_at DESC LIMIT $1', [filter.limit ?? 50]);
    return reportsOf(this.pool, rows);
  }

  private async runsInTemporal(workflowId: string): Promise<boolean> {
    try {
      await this.temporal.workflow.getHandle(workflowId).describe();
      return true;
    } catch {
      return false;
    }
  }
}
