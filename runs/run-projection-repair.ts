// Keeps the run-summary projection whole, since runs are listed from it: a run
// whose workflow could not write its row (no worker picked it up yet, a write
// that failed, a run older than the projection) or could not record its end
// (terminated or timed out by Temporal) is found in Temporal's visibility and
// its row rebuilt from Temporal, the source of truth.
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import type pg from 'pg';
import { INTERPRETER_WORKFLOW } from './run-contract.js';
import { quote } from './run-queries.js';

const RUNNING = proto.temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;

export interface RepairOptions {
  /** How often a pass runs. */
  intervalMs?: number;
  /** How far back the first pass looks in Temporal (later passes look back to the previous one). */
  firstLookBackMs?: number;
  /** A row younger than this is left to its run (it may be writing it right now). */
  graceMs?: number;
}

export interface RepairPass {
  examined: number;
  repaired: number;
  failed: number;
}

interface ListedExecution {
  workflowId: string;
  runId: string;
  running: boolean;
}

/** One lock for every API process: one of them repairs at a time. */
const REPAIR_LOCK = 'run-projection-repair';

export class RunProjectionRepair {
  private timer?: NodeJS.Timeout;
  private since?: Date;
  private pass?: Promise<RepairPass | undefined>;
  private readonly intervalMs: number;
  private readonly firstLookBackMs: number;
  private readonly graceMs: number;

  constructor(
    private readonly temporal: Client,
    private readonly pool: pg.Pool,
    private readonly runs: { repairSummary(id: string): Promise<void> },
    /** The task queue of the runs this installation starts: runs of other installations sharing the namespace are not its own. */
    private readonly taskQueue: string,
    options: RepairOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 60_000;
    this.firstLookBackMs = options.firstLookBackMs ?? 7 * 24 * 3_600_000;
    this.graceMs = options.graceMs ?? 30_000;
  }

  start(): void {
    const tick = () => {
      this.pass = this.repairOnce().catch((error: unknown) => {
        console.error('could not repair the run-summary projection', error);
        return undefined;
      });
      void this.pass.finally(() => {
        if (this.timer) this.timer = setTimeout(tick, this.intervalMs).unref();
      });
    };
    this.timer = setTimeout(tick, 1_000).unref();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.pass;
  }

  /** One pass, unless another process is in one. */
  async repairOnce(): Promise<RepairPass | undefined> {
    const lock = await this.pool.connect();
    try {
      const { rows } = await lock.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [REPAIR_LOCK]);
      if (!rows[0]?.locked) return undefined;
      try {
        const startedAt = new Date();
        const since = this.since ?? new Date(startedAt.getTime() - this.firstLookBackMs);
        const pass = await this.repairSince(since);
        // The next pass overlaps this one by the grace period: nothing started in between is missed.
        this.since = new Date(startedAt.getTime() - this.graceMs);
        return pass;
      } finally {
        await lock.query('SELECT pg_advisory_unlock(hashtext($1))', [REPAIR_LOCK]);
      }
    } finally {
      lock.release();
    }
  }

  private async repairSince(since: Date): Promise<RepairPass> {
    const pass: RepairPass = { examined: 0, repaired: 0, failed: 0 };
    const graceEnd = new Date(Date.now() - this.graceMs).toISOString();
    // Runs started or ended since the last pass, and runs still running in the projection that Temporal may have ended.
    const ours = `WorkflowType = '${INTERPRETER_WORKFLOW}' AND TaskQueue = ${quote(this.taskQueue)}`;
    const changed = `${ours} AND StartTime < '${graceEnd}' AND (StartTime >= '${since.toISOString()}' OR CloseTime >= '${since.toISOString()}')`;
    for await (const executions of this.pages(changed)) await this.repairPage(executions, pass);
    const { rows } = await this.pool.query<{ workflow_id: string }>(
      `SELECT workflow_id FROM run_summaries WHERE status = 'running' AND updated_at < now() - make_interval(secs => $1) ORDER BY updated_at LIMIT 1000`,
      [this.graceMs / 1000],
    );
    for (let offset = 0; offset < rows.length; offset += 100) {
      const ids = rows.slice(offset, offset + 100).map((row) => quote(row.workflow_id));
      for await (const executions of this.pages(`${ours} AND ExecutionStatus != 'Running' AND WorkflowId IN (${ids.join(', ')})`)) {
        await this.repairPage(executions, pass);
      }
    }
    return pass;
  }

  private async *pages(query: string): AsyncGenerator<ListedExecution[]> {
    let nextPageToken: Uint8Array | undefined;
    do {
      const response = await this.temporal.workflowService.listWorkflowExecutions({ namespace: this.temporal.options.namespace, query, pageSize: 500, ...(nextPageToken ? { nextPageToken } : {}) });
      yield (response.executions ?? []).map((execution) => ({ workflowId: execution.execution?.workflowId ?? '', runId: execution.execution?.runId ?? '', running: execution.status === RUNNING }));
      nextPageToken = response.nextPageToken && response.nextPageToken.length > 0 ? response.nextPageToken : undefined;
    } while (nextPageToken);
  }

  /** Rebuilds the rows of these executions that are missing, of an older execution, or running where Temporal ended the run. */
  private async repairPage(executions: ListedExecution[], pass: RepairPass): Promise<void> {
    if (executions.length === 0) return;
    const { rows } = await this.pool.query<{ workflow_id: string; execution_id: string; status: string }>('SELECT workflow_id, execution_id, status FROM run_summaries WHERE workflow_id = ANY($1)', [
      executions.map((execution) => execution.workflowId),
    ]);
    const stored = new Map(rows.map((row) => [row.workflow_id, row]));
    const repaired = new Set<string>();
    for (const execution of executions) {
      pass.examined += 1;
      if (repaired.has(execution.workflowId)) continue;
      const row = stored.get(execution.workflowId);
      // Visibility lists every execution of an id (a resumed run's older ones too): only the latest is the run.
      const stale = !row || (row.execution_id === execution.runId && row.status === 'running' && !execution.running) || (row.execution_id !== execution.runId && execution.running);
      if (!stale) continue;
      repaired.add(execution.workflowId);
      try {
        await this.runs.repairSummary(execution.workflowId);
        pass.repaired += 1;
      } catch (error) {
        pass.failed += 1;
        console.error(`could not rebuild the summary of run ${execution.workflowId}`, error);
      }
    }
  }
}
