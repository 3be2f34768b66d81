// Reading runs: lists, one run's details, where a run lives, dashboard figures
// and waiting approvals. Lists and details come from the run-summary
// projection, which each run writes itself (its steps within a second of a
// change); Temporal adds what only it knows (attempts of a step retrying now)
// and answers for runs whose row is missing or stale, rebuilding the row.
import { WorkflowFailedError, WorkflowNotFoundError, type Client, type WorkflowExecutionDescription, type WorkflowExecutionInfo, type WorkflowHandle } from '@temporalio/client';
import { executionInfoFromRaw } from '@temporalio/client/lib/helpers.js';
import type { temporal as protoTypes } from '@temporalio/proto';
import { createHash } from 'node:crypto';
import { JarvisProblem } from '../manifest/errors.js';
import { progressQuery, type RunProgress, type RunResult } from '../workflows/messages.js';
import { ENVIRONMENT_ATTRIBUTE, RERUN_OF_ATTRIBUTE, RUNBOOK_ATTRIBUTE, SCHEDULE_ATTRIBUTE, STARTED_BY_ATTRIBUTE } from '../workflows/search-attributes.js';
import { INTERPRETER_WORKFLOW, TEMPORAL_STATUS_OF, type ListRunsFilter, type RunDetails, type RunLocation, type RunPage, type RunStatistics, type RunSummary } from './run-contract.js';
import { isKeyedRunId } from './run-ids.js';
import { EXTERNAL_END_ERRORS } from './run-list-query.js';
import type { RunSummaryStore, StoredRunSummary, WaitingApproval } from './run-summary-store.js';

const STATUS_NAMES: Record<string, string> = {
  running: 'Running',
  completed: 'Completed',
  succeeded: 'Completed',
  failed: 'Failed',
  cancelled: 'Canceled',
  canceled: 'Canceled',
  terminated: 'Terminated',
  'timed-out': 'TimedOut',
};

/** A string as a literal of Temporal's visibility query language. */
export function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function summarize(description: Omit<WorkflowExecutionInfo, 'raw'>): RunSummary {
  const attributes = description.typedSearchAttributes;
  return {
    id: description.workflowId,
    runId: description.runId,
    runbook: attributes.get(RUNBOOK_ATTRIBUTE),
    environment: attributes.get(ENVIRONMENT_ATTRIBUTE),
    startedBy: attributes.get(STARTED_BY_ATTRIBUTE),
    rerunOf: attributes.get(RERUN_OF_ATTRIBUTE),
    status: description.status.name,
    startedAt: description.startTime.toISOString(),
    ...(description.closeTime ? { closedAt: description.closeTime.toISOString() } : {}),
  };
}

/** A page cursor: Temporal's page token, tied to the query it pages through. */
function cursorTag(query: string): string {
  return createHash('sha256').update(query).digest('base64url').slice(0, 12);
}

function writeCursor(token: Uint8Array, query: string): string {
  return `${cursorTag(query)}.${Buffer.from(token).toString('base64url')}`;
}

function readCursor(cursor: string, query: string): Buffer {
  const [tag, token] = cursor.split('.');
  if (!tag || !token || tag !== cursorTag(query)) {
    throw new JarvisProblem('the cursor does not belong to this list (were the filters changed?); list again from the first page', 'invalid');
  }
  return Buffer.from(token, 'base64url');
}

/** A closed run's projection is final: it is written with the highest sequence number. */
const FINAL_SEQUENCE = 2 ** 31 - 1;

function detailsFromSummary(stored: StoredRunSummary): RunDetails {
  const { progress } = stored;
  return {
    id: stored.workflowId,
    runId: stored.executionId,
    runbook: progress.runbook,
    environment: progress.environment,
    startedBy: progress.startedBy,
    ...(progress.rerunOf ? { rerunOf: progress.rerunOf } : {}),
    status: TEMPORAL_STATUS_OF[progress.status],
    startedAt: progress.startedAt,
    ...(progress.endedAt ? { closedAt: progress.endedAt } : {}),
    ...(progress.error ? { error: progress.error } : {}),
    progress,
    pendingAttempts: [],
  };
}

/** Steps whose activity is retrying now, as Temporal describes the run. */
function pendingAttemptsOf(description: WorkflowExecutionDescription): RunDetails['pendingAttempts'] {
  const attempts: RunDetails['pendingAttempts'] = [];
  for (const pending of description.raw.pendingActivities ?? []) {
    const activityId = pending.activityId ?? '';
    if (!activityId.startsWith('step:')) continue;
    attempts.push({ stepId: activityId.slice('step:'.length), attempt: pending.attempt ?? 1, ...(pending.lastFailure?.message ? { lastFailure: pending.lastFailure.message } : {}) });
  }
  return attempts;
}

function withPendingAttempts(details: RunDetails, pendingAttempts: RunDetails['pendingAttempts']): RunDetails {
  for (const pending of pendingAttempts) {
    const step = details.progress?.steps.find((candidate) => candidate.id === pending.stepId);
    if (step) step.attempts = Math.max(step.attempts, pending.attempt);
  }
  return { ...details, pendingAttempts };
}

/** The end of a run that Temporal ended itself (terminated, timed out), as the run's progress. */
function endedOutsideTheRun(progress: RunProgress, description: WorkflowExecutionDescription): RunProgress {
  const endedAt = (description.closeTime ?? new Date()).toISOString();
  if (description.status.name === 'CANCELLED') return { ...progress, status: 'cancelled', endedAt };
  const error = description.status.name === 'TIMED_OUT' ? EXTERNAL_END_ERRORS.TIMED_OUT : EXTERNAL_END_ERRORS.TERMINATED;
  return { ...progress, status: 'failed', endedAt, error };
}

/**
 * Describes of running runs, shared for a second: a run page polled by many
 * readers asks Temporal once a second, not once per reader.
 */
class LiveDescriptions {
  private readonly recent = new Map<string, { at: number; description: Promise<WorkflowExecutionDescription> }>();

  constructor(private readonly maxAgeMs = 1_000) {}

  describe(id: string, load: () => Promise<WorkflowExecutionDescription>): Promise<WorkflowExecutionDescription> {
    const now = Date.now();
    const cached = this.recent.get(id);
    if (cached && now - cached.at < this.maxAgeMs) return cached.description;
    if (this.recent.size > 10_000) this.recent.clear();
    const description = load();
    this.recent.set(id, { at: now, description });
    description.catch(() => this.recent.delete(id));
    return description;
  }
}

/** The execution as listed, its memo hidden (a protobuf message keeps its defaults on its prototype, so it is not spread). */
function withoutMemo(raw: protoTypes.api.workflow.v1.IWorkflowExecutionInfo): protoTypes.api.workflow.v1.IWorkflowExecutionInfo {
  return Object.assign(Object.create(raw) as protoTypes.api.workflow.v1.IWorkflowExecutionInfo, { memo: null });
}

/**
 * A run's progress by query. A closed run is replayed on a worker to answer,
 * which a busy worker may not do in time: asked six times (over about four
 * seconds) before the run is shown without its steps.
 */
async function queryProgress(handle: WorkflowHandle): Promise<RunProgress | undefined> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await handle.query(progressQuery);
    } catch (error) {
      if (attempt >= 6 || error instanceof WorkflowNotFoundError) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
    }
  }
}

export class RunQueries {
  private readonly liveDescriptions = new LiveDescriptions();

  constructor(
    private readonly client: Client,
    /** The run-summary projection, when the installation has a database. */
    private readonly summaries?: RunSummaryStore,
  ) {}

  async listRuns(filter: ListRunsFilter = {}): Promise<RunSummary[]> {
    return (await this.listRunPage(filter)).runs;
  }

  /** One page of runs, newest first: from the projection, or Temporal visibility in an installation without one. */
  async listRunPage(filter: ListRunsFilter = {}): Promise<RunPage> {
    return this.summaries ? this.summaries.listPage(filter) : this.listFromVisibility(filter);
  }

  private async listFromVisibility(filter: ListRunsFilter): Promise<RunPage> {
    const clauses = [`WorkflowType = ${quote(INTERPRETER_WORKFLOW)}`];
    if (filter.runbook) clauses.push(`${RUNBOOK_ATTRIBUTE.name} = ${quote(filter.runbook)}`);
    if (filter.environment) clauses.push(`${ENVIRONMENT_ATTRIBUTE.name} = ${quote(filter.environment)}`);
    if (filter.environments) {
      if (filter.environments.length === 0) return { runs: [] };
      clauses.push(`${ENVIRONMENT_ATTRIBUTE.name} IN (${filter.environments.map(quote).join(', ')})`);
    }
    if (filter.startedBy) clauses.push(`${STARTED_BY_ATTRIBUTE.name} = ${quote(filter.startedBy)}`);
    if (filter.schedule) clauses.push(`${SCHEDULE_ATTRIBUTE.name} = ${quote(filter.schedule)}`);
    if (filter.status) {
      const status = STATUS_NAMES[filter.status.toLowerCase()];
      if (!status) throw new JarvisProblem(`unknown status "${filter.status}" (use ${Object.keys(STATUS_NAMES).join(', ')})`, 'invalid');
      clauses.push(`ExecutionStatus = ${quote(status)}`);
    }
    for (const [bound, operator] of [
      [filter.startedAfter, '>='],
      [filter.startedBefore, '<'],
    ] as const) {
      if (bound === undefined) continue;
      if (Number.isNaN(Date.parse(bound))) throw new JarvisProblem(`"${bound}" is not a date and time (use ISO 8601, e.g. 2026-11-23T10:00:00Z)`, 'invalid');
      clauses.push(`StartTime ${operator} ${quote(new Date(bound).toISOString())}`);
    }
    const query = clauses.join(' AND ');
    const response = await this.client.workflowService.listWorkflowExecutions({
      namespace: this.client.options.namespace,
      query,
      pageSize: filter.limit ?? 50,
      ...(filter.cursor ? { nextPageToken: readCursor(filter.cursor, query) } : {}),
    });
    // A summary needs no memo, and a memo is encrypted under its run's environment key (an idempotent
    // start's token), which a list has no per-run context to pick: it is left out rather than decoded.
    const runs = await Promise.all(
      (response.executions ?? []).map(async (raw) => summarize(await executionInfoFromRaw(withoutMemo(raw), this.client.options.loadedDataConverter, raw, this.client.options.namespace))),
    );
    const token = response.nextPageToken;
    return { runs, ...(token && token.length > 0 ? { nextCursor: writeCursor(token, query) } : {}) };
  }

  /** `executionId`: that execution of the run, as authorized; otherwise its latest. */
  async describe(id: string, executionId?: string): Promise<{ handle: WorkflowHandle; description: WorkflowExecutionDescription }> {
    const handle = this.client.workflow.getHandle(id, executionId);
    try {
      return { handle, description: await handle.describe() };
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw new JarvisProblem(`no run with id "${id}"`, 'not-found');
      throw error;
    }
  }

  /**
   * The environment a run belongs to and the execution it was read from, for
   * authorization before anything else is read. What is then read or done
   * names that execution, so a run id whose newer execution belongs to
   * another environment cannot be reached through the authorized one.
   */
  async locateRun(id: string): Promise<RunLocation> {
    const stored = await this.summaries?.find(id);
    if (stored) return { environment: stored.progress.environment, executionId: stored.executionId };
    const { description } = await this.describe(id);
    return { environment: description.typedSearchAttributes.get(ENVIRONMENT_ATTRIBUTE) ?? '', executionId: description.runId };
  }

  async runEnvironment(id: string): Promise<string> {
    return (await this.locateRun(id)).environment;
  }

  /**
   * One run with its progress. A closed run is read from the projection alone;
   * a running one (or one without a usable row) from Temporal, and a closed
   * run's missing or stale row is rebuilt from what Temporal answered.
   */
  async showRun(id: string): Promise<RunDetails> {
    const stored = await this.summaries?.find(id);
    // A keyed id names a new execution once its run closes: a closed summary may be the previous one's.
    if (stored && stored.progress.status !== 'running' && !isKeyedRunId(id)) return detailsFromSummary(stored);
    if (stored?.liveSteps && stored.progress.status === 'running') {
      // The row holds the steps as published (at most a second behind); Temporal adds the attempts of steps retrying now.
      const live = await this.liveDescriptions.describe(id, async () => (await this.describe(id)).description);
      if (live.status.name === 'RUNNING' && live.runId === stored.executionId) return withPendingAttempts(detailsFromSummary(stored), pendingAttemptsOf(live));
    }
    const { handle, description } = await this.describe(id);
    if (stored && stored.progress.status !== 'running' && stored.executionId === description.runId) return detailsFromSummary(stored);
    const details: RunDetails = { ...summarize(description), pendingAttempts: pendingAttemptsOf(description) };
    const closed = description.status.name !== 'RUNNING';
    if (description.status.name === 'COMPLETED') {
      details.progress = ((await handle.result()) as RunResult).progress;
    } else if (description.status.name === 'FAILED') {
      try {
        await handle.result();
      } catch (error) {
        if (error instanceof WorkflowFailedError) {
          details.error = error.cause?.message ?? error.message;
          const failureDetails = (error.cause as { details?: Array<{ progress?: RunProgress }> } | undefined)?.details;
          details.progress = failureDetails?.[0]?.progress;
        }
      }
    } else {
      details.progress = await queryProgress(handle);
    }
    // Terminated or timed out: the workflow had no chance to record its end, so the run's last progress says running.
    if (closed && details.progress?.status === 'running') details.progress = endedOutsideTheRun(details.progress, description);
    if (closed && details.progress) await this.rebuildSummary(id, description.runId, details.progress);
    return withPendingAttempts(details, details.pendingAttempts);
  }

  /** Approval steps waiting for a decision in these environments, oldest first (from the projection). */
  async waitingApprovals(environments: string[]): Promise<WaitingApproval[]> {
    return (await this.summaries?.waitingApprovals(environments)) ?? [];
  }

  /** Figures for the dashboard: running runs, finished ones per day and recent failures (projection; running runs from Temporal without one). */
  async runStatistics(environments: string[], days: number): Promise<RunStatistics> {
    if (environments.length === 0) return { running: 0, failedLast24h: 0, recentFailures: [], daily: [] };
    const query = `WorkflowType = ${quote(INTERPRETER_WORKFLOW)} AND ExecutionStatus = 'Running' AND ${ENVIRONMENT_ATTRIBUTE.name} IN (${environments.map(quote).join(', ')})`;
    const [running, recentFailures, daily] = await Promise.all([
      this.summaries ? this.summaries.countRunning(environments) : this.client.workflow.count(query).then((answer) => answer.count),
      this.summaries?.recentFailures(environments, 24, 100) ?? [],
      this.summaries?.dailyOutcomes(environments, days) ?? [],
    ]);
    return { running, failedLast24h: recentFailures.length, recentFailures: recentFailures.slice(0, 10), daily };
  }

  /**
   * Writes a run's missing or stale projection row from Temporal: a closed run
   * as it ended, a running one as its progress query answers (with the lowest
   * sequence, so the run's own next write replaces it).
   */
  async repairSummary(id: string): Promise<void> {
    if (!this.summaries) return;
    const { handle, description } = await this.describe(id);
    if (description.status.name !== 'RUNNING') {
      await this.showRun(id);
      return;
    }
    const progress = await queryProgress(handle);
    if (!progress) return;
    const { steps, ...run } = progress;
    await this.summaries.record({ workflowId: id, executionId: description.runId, sequence: 0, complete: true, run, steps: steps.map((step, position) => ({ position, step })) });
  }

  /** Writes a closed run's projection row from what Temporal answered. */
  private async rebuildSummary(workflowId: string, executionId: string, progress: RunProgress): Promise<void> {
    if (!this.summaries) return;
    const { steps, ...run } = progress;
    await this.summaries.record({ workflowId, executionId, sequence: FINAL_SEQUENCE, complete: true, run, steps: steps.map((step, position) => ({ position, step })) });
  }
}
