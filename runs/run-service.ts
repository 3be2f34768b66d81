// Starting, reading, deciding on and recovering runs. The CLI uses it now;
// the API will. All run state is read from Temporal, never mirrored.
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowExecutionInfo,
  type WorkflowHandle,
} from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { temporal as protoTypes } from '@temporalio/proto';

const { temporal } = proto;
import { executionInfoFromRaw } from '@temporalio/client/lib/helpers.js';
import Long from 'long';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { RunbookCatalog } from '../manifest/catalog.js';
import type { CompiledManifest, LoadResult } from '../manifest/loader.js';
import { maskSecretInputs, redact, secretInputValues } from '../manifest/redact.js';
import { renderString } from '../manifest/template.js';
import type { Role, RunInput } from '../manifest/types.js';
import {
  approveStepUpdate,
  progressQuery,
  rejectStepUpdate,
  type ApprovalAnswer,
  type RunProgress,
  type RunResult,
} from '../workflows/messages.js';
import { ENVIRONMENT_ATTRIBUTE, RERUN_OF_ATTRIBUTE, RUNBOOK_ATTRIBUTE, STARTED_BY_ATTRIBUTE } from '../workflows/search-attributes.js';
import type { RunAuthority } from '../security/run-authority.js';
import { JarvisProblem } from '../manifest/errors.js';
import { validateRunInputs } from './inputs.js';
import { buildTimeline, type TimelineEntry } from './timeline.js';
import { TEMPORAL_STATUS_OF, type DailyOutcome, type RunSummaryStore, type StoredRunSummary, type WaitingApproval } from './run-summary-store.js';

export const INTERPRETER_WORKFLOW = 'runbookInterpreter';

export interface StartRunRequest {
  /** A catalog runbook's name, or an already compiled manifest (e.g. a file given to the CLI). */
  runbook: string | CompiledManifest;
  inputs: Record<string, unknown>;
  environment: string;
  startedBy: string;
  rerunOf?: string;
  /** The AI Ops plan the run executes. */
  planId?: string;
  /** From `idempotencyToken`: a retried start with the same token answers the run the first one started. */
  idempotency?: string;
}

export interface StartedRun {
  id: string;
  runId: string;
  /** True when an earlier start with the same idempotency token had already started this run. */
  replayed?: boolean;
}

/** Crash points for tests: where a start can be interrupted as a killed process would interrupt it. */
export interface RunServiceHooks {
  /** Called once the workflow has started, before the caller hears of it. */
  afterWorkflowStart?(id: string): Promise<void> | void;
}

export interface RunSummary {
  id: string;
  runId: string;
  runbook?: string;
  environment?: string;
  startedBy?: string;
  rerunOf?: string;
  status: string;
  startedAt: string;
  closedAt?: string;
}

export interface RunDetails extends RunSummary {
  progress?: RunProgress;
  error?: string;
  /** Steps whose activity is retrying right now, with the attempt it is on and its last failure. */
  pendingAttempts: Array<{ stepId: string; attempt: number; lastFailure?: string }>;
}

export interface ListRunsFilter {
  status?: string;
  runbook?: string;
  environment?: string;
  /** Only runs in these environments (the ones the caller may read). */
  environments?: string[];
  startedBy?: string;
  /** ISO 8601 times bounding when runs started. */
  startedAfter?: string;
  startedBefore?: string;
  limit?: number;
  /** Where the previous page ended (its `nextCursor`). */
  cursor?: string;
}

export interface RunStatistics {
  running: number;
  failedLast24h: number;
  recentFailures: Awaited<ReturnType<RunSummaryStore['recentFailures']>>;
  daily: DailyOutcome[];
}

/** Where a run was found: its environment and the execution read. */
export interface RunLocation {
  environment: string;
  executionId: string;
}

export interface RunPage {
  runs: RunSummary[];
  /** Pass back as `cursor` for the next page; absent on the last one. */
  nextCursor?: string;
}

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

function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A run's id names its environment: its payloads are encrypted with that environment's key (temporal/payload-keys.ts). */
function newRunId(runbook: string, environment: string): string {
  return `${runbook}@${environment}.${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/**
 * With a concurrency key, the workflow id is the key: Temporal itself refuses
 * a second run on it. The environment is part of it, so a run id never
 * names runs of two environments.
 */
function keyedRunId(runbook: string, environment: string, key: string): string {
  return `${runbook}@${environment}:${key.replace(/[^A-Za-z0-9._:-]+/g, '_')}`;
}

/** The memo field that holds a start's idempotency token, compared when Temporal reports the id already taken. */
const IDEMPOTENCY_MEMO = 'jarvisIdempotency';

/**
 * A caller's Idempotency-Key as a stable token: the same user and key give the
 * same token in every API process, before and after a crash, and two users'
 * keys never meet. Hex, so it fits a run id's suffix.
 */
export function idempotencyToken(userId: string, key: string): string {
  return createHash('sha256').update(`${userId}\n${key}`).digest('hex').slice(0, 32);
}

/** An idempotent start's id: the token is the suffix, so a retry names the same workflow. */
function idempotentRunId(runbook: string, environment: string, token: string): string {
  return `${runbook}@${environment}.${token}`;
}

function summarize(description: Omit<WorkflowExecutionInfo, "raw">): RunSummary {
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

/** Step arguments and outputs shown in the timeline are cut at this many characters. */
const TIMELINE_PAYLOAD_CHARS = 4_000;

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

export class RunService {
  constructor(
    private readonly client: Client,
    private readonly catalog: RunbookCatalog,
    private readonly taskQueue: string,
    /** Signs starts and decisions: workers refuse what the API did not sign. */
    private readonly authority: RunAuthority,
    /** The run-summary projection, when the installation has a database. */
    private readonly summaries?: RunSummaryStore,
    private readonly hooks: RunServiceHooks = {},
  ) {}

  compileRunbook(name: string): CompiledManifest {
    const result = this.catalog.compile(name);
    if (!result) throw new JarvisProblem(`no runbook named "${name}" in the catalog`, 'not-found');
    return this.expectValid(result, `runbook "${name}" is invalid:`);
  }

  expectValid(result: LoadResult, message: string): CompiledManifest {
    if (!result.ok) throw new JarvisProblem(message, 'invalid', result.errors);
    return result.compiled;
  }

  /**
   * Idempotent starts (`request.idempotency`) rely on Temporal's own id
   * uniqueness rather than on a key stored before or after the start: the
   * workflow id is derived from the token (or, for a concurrency-keyed
   * runbook, fixed by its key) and the token rides in the memo. A retry after
   * the API died between "started" and "answered" then hits the same id,
   * Temporal answers "already started", and the run holding the token is
   * answered as the one run. Storing the key first would need a second
   * protocol for a key stored whose start never happened, and a start whose
   * answer was lost (timeout) could still start twice.
   */
  async startRun(request: StartRunRequest): Promise<StartedRun> {
    const compiled = typeof request.runbook === 'string' ? this.compileRunbook(request.runbook) : request.runbook;
    const { runbook } = compiled;
    if (!runbook.environments.includes(request.environment)) {
      throw new JarvisProblem(
        `runbook "${runbook.name}" cannot run in "${request.environment}"; it allows ${runbook.environments.join(', ')}`,
        'invalid',
      );
    }
    const inputs = validateRunInputs(runbook, request.inputs);
    const key = runbook.concurrencyKey === undefined ? undefined : String(renderString(runbook.concurrencyKey, { inputs }));
    const token = request.idempotency;
    const id =
      key !== undefined
        ? keyedRunId(runbook.name, request.environment, key)
        : token !== undefined
          ? idempotentRunId(runbook.name, request.environment, token)
          : newRunId(runbook.name, request.environment);
    // A keyed id is reused once its run closes, so Temporal's conflict cannot tell a retry that comes after the run ended: look first.
    if (key !== undefined && token !== undefined) {
      const earlier = await this.startedWithToken(id, token);
      if (earlier) return earlier;
    }
    const input: RunInput = {
      runbook,
      children: compiled.children,
      inputs,
      environment: request.environment,
      startedBy: request.startedBy,
      ...(request.rerunOf ? { rerunOf: request.rerunOf } : {}),
      ...(request.planId ? { planId: request.planId } : {}),
    };
    input.authorization = this.authority.signStart(id, input);
    try {
      const handle = await this.client.workflow.start(INTERPRETER_WORKFLOW, {
        taskQueue: this.taskQueue,
        workflowId: id,
        args: [input],
        workflowIdConflictPolicy: 'FAIL',
        // A token's id names one run forever (within Temporal's retention), even after that run closed.
        ...(key === undefined && token !== undefined ? { workflowIdReusePolicy: 'REJECT_DUPLICATE' as const } : {}),
        ...(token !== undefined ? { memo: { [IDEMPOTENCY_MEMO]: token } } : {}),
        typedSearchAttributes: [
          { key: RUNBOOK_ATTRIBUTE, value: runbook.name },
          { key: ENVIRONMENT_ATTRIBUTE, value: request.environment },
          { key: STARTED_BY_ATTRIBUTE, value: request.startedBy },
          ...(request.rerunOf ? [{ key: RERUN_OF_ATTRIBUTE, value: request.rerunOf }] : []),
        ],
      });
      await this.hooks.afterWorkflowStart?.(id);
      return { id, runId: handle.firstExecutionRunId };
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      const earlier = token === undefined ? undefined : await this.startedWithToken(id, token);
      if (earlier) return earlier;
      const holder = await this.client.workflow.getHandle(id).describe();
      const who = holder.typedSearchAttributes.get(STARTED_BY_ATTRIBUTE) ?? 'someone';
      if (key === undefined) throw new JarvisProblem(`run ${id} already exists and was not started with this idempotency key`, 'conflict');
      throw new JarvisProblem(
        `runbook "${runbook.name}" is already running for concurrency key "${key}": run ${id} (execution ${holder.runId}), started by ${who} at ${holder.startTime.toISOString()}. Wait for it to finish or cancel it.`,
        'conflict',
      );
    }
  }

  /** The latest execution of `id` when it was started with `token`. */
  private async startedWithToken(id: string, token: string): Promise<StartedRun | undefined> {
    try {
      const description = await this.client.workflow.getHandle(id).describe();
      return description.memo?.[IDEMPOTENCY_MEMO] === token ? { id, runId: description.runId, replayed: true } : undefined;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    }
  }

  async listRuns(filter: ListRunsFilter = {}): Promise<RunSummary[]> {
    return (await this.listRunPage(filter)).runs;
  }

  /** One page of runs from Temporal visibility, newest first. */
  async listRunPage(filter: ListRunsFilter = {}): Promise<RunPage> {
    const clauses = [`WorkflowType = ${quote(INTERPRETER_WORKFLOW)}`];
    if (filter.runbook) clauses.push(`${RUNBOOK_ATTRIBUTE.name} = ${quote(filter.runbook)}`);
    if (filter.environment) clauses.push(`${ENVIRONMENT_ATTRIBUTE.name} = ${quote(filter.environment)}`);
    if (filter.environments) {
      if (filter.environments.length === 0) return { runs: [] };
      clauses.push(`${ENVIRONMENT_ATTRIBUTE.name} IN (${filter.environments.map(quote).join(', ')})`);
    }
    if (filter.startedBy) clauses.push(`${STARTED_BY_ATTRIBUTE.name} = ${quote(filter.startedBy)}`);
    if (filter.status) {
      const status = STATUS_NAMES[filter.status.toLowerCase()];
      if (!status) throw new JarvisProblem(`unknown status "${filter.status}" (use ${Object.keys(STATUS_NAMES).join(', ')})`, 'invalid');
      clauses.push(`ExecutionStatus = ${quote(status)}`);
    }
    for (const [bound, operator] of [[filter.startedAfter, '>='], [filter.startedBefore, '<']] as const) {
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
    const runs = await Promise.all(
      (response.executions ?? []).map(async (raw) =>
        summarize(await executionInfoFromRaw(raw, this.client.options.loadedDataConverter, raw, this.client.options.namespace)),
      ),
    );
    const token = response.nextPageToken;
    return { runs, ...(token && token.length > 0 ? { nextCursor: writeCursor(token, query) } : {}) };
  }

  /** `executionId`: that execution of the run, as authorized; otherwise its latest. */
  private async describe(id: string, executionId?: string): Promise<{ handle: WorkflowHandle; description: WorkflowExecutionDescription }> {
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
    if (stored && stored.progress.status !== 'running') return detailsFromSummary(stored);
    const { handle, description } = await this.describe(id);
    const details: RunDetails = { ...summarize(description), pendingAttempts: [] };
    for (const pending of description.raw.pendingActivities ?? []) {
      const activityId = pending.activityId ?? '';
      if (!activityId.startsWith('step:')) continue;
      details.pendingAttempts.push({
        stepId: activityId.slice('step:'.length),
        attempt: pending.attempt ?? 1,
        ...(pending.lastFailure?.message ? { lastFailure: pending.lastFailure.message } : {}),
      });
    }
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
      details.progress = await handle.query(progressQuery).catch(() => undefined);
    }
    if (closed && details.progress && details.progress.status !== 'running') {
      await this.rebuildSummary(id, description.runId, details.progress);
    }
    if (details.progress) {
      for (const pending of details.pendingAttempts) {
        const step = details.progress.steps.find((candidate) => candidate.id === pending.stepId);
        if (step) step.attempts = Math.max(step.attempts, pending.attempt);
      }
    }
    return details;
  }

  /** Approval steps waiting for a decision in these environments, oldest first (from the projection). */
  async waitingApprovals(environments: string[]): Promise<WaitingApproval[]> {
    return (await this.summaries?.waitingApprovals(environments)) ?? [];
  }

  /** Figures for the dashboard: running runs (Temporal), finished ones per day and recent failures (projection). */
  async runStatistics(environments: string[], days: number): Promise<RunStatistics> {
    if (environments.length === 0) return { running: 0, failedLast24h: 0, recentFailures: [], daily: [] };
    const query = `WorkflowType = ${quote(INTERPRETER_WORKFLOW)} AND ExecutionStatus = 'Running' AND ${ENVIRONMENT_ATTRIBUTE.name} IN (${environments.map(quote).join(', ')})`;
    const [running, recentFailures, daily] = await Promise.all([
      this.client.workflow.count(query).then((answer) => answer.count),
      this.summaries?.recentFailures(environments, 24, 100) ?? [],
      this.summaries?.dailyOutcomes(environments, days) ?? [],
    ]);
    return { running, failedLast24h: recentFailures.length, recentFailures: recentFailures.slice(0, 10), daily };
  }

  /** Writes a closed run's projection row from what Temporal answered. */
  private async rebuildSummary(workflowId: string, executionId: string, progress: RunProgress): Promise<void> {
    if (!this.summaries) return;
    const { steps, ...run } = progress;
    await this.summaries.record({
      workflowId,
      executionId,
      sequence: FINAL_SEQUENCE,
      complete: true,
      run,
      steps: steps.map((step, position) => ({ position, step })),
    });
  }

  async approveStep(id: string, stepId: string, user: string, roles: Role[], comment?: string, executionId?: string): Promise<ApprovalAnswer> {
    const authorization = this.authority.signDecision({ workflowId: id, stepId, decision: 'approve', user, roles, ...(comment ? { note: comment } : {}) });
    return this.decide(id, executionId, (handle) => handle.executeUpdate(approveStepUpdate, { args: [{ stepId, user, roles, ...(comment ? { comment } : {}), authorization }] }));
  }

  async rejectStep(id: string, stepId: string, user: string, roles: Role[], reason: string, executionId?: string): Promise<ApprovalAnswer> {
    const authorization = this.authority.signDecision({ workflowId: id, stepId, decision: 'reject', user, roles, note: reason });
    return this.decide(id, executionId, (handle) => handle.executeUpdate(rejectStepUpdate, { args: [{ stepId, user, roles, reason, authorization }] }));
  }

  private async decide(id: string, executionId: string | undefined, send: (handle: WorkflowHandle) => Promise<ApprovalAnswer>): Promise<ApprovalAnswer> {
    const { handle, description } = await this.describe(id, executionId);
    if (description.status.name !== 'RUNNING') throw new JarvisProblem(`run ${id} is ${description.status.name.toLowerCase()}, not waiting for a decision`, 'conflict');
    try {
      return await send(handle);
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError) throw new JarvisProblem(error.cause?.message ?? error.message, 'forbidden');
      throw error;
    }
  }

  async cancelRun(id: string, executionId?: string): Promise<void> {
    const { handle, description } = await this.describe(id, executionId);
    if (description.status.name !== 'RUNNING') throw new JarvisProblem(`run ${id} is already ${description.status.name.toLowerCase()}`, 'conflict');
    await handle.cancel();
  }

  /** The workflow input a run was started with: the exact manifest version and inputs. */
  private async originalInput(id: string, executionId?: string): Promise<RunInput> {
    const history = await this.fetchHistory(id, executionId);
    // Histories hold payloads as the codecs left them (encrypted).
    const input = await this.decodePayload<RunInput>(history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]);
    if (!input) throw new JarvisProblem(`run ${id} has no recorded input`, 'invalid');
    return input;
  }

  /** A new run with the same manifest version and inputs, linked to the original. */
  async rerun(id: string, startedBy: string, executionId?: string): Promise<{ id: string; runId: string }> {
    const original = await this.originalInput(id, executionId);
    return this.startRun({
      runbook: { runbook: original.runbook, children: original.children },
      inputs: original.inputs,
      environment: original.environment,
      startedBy,
      rerunOf: id,
    });
  }

  /**
   * Resets a failed run to just before its failed step, so steps that completed
   * are not executed again. Refused when compensations already undid work.
   */
  async resume(id: string, requestedBy: string, executionId?: string): Promise<{ id: string; runId: string; fromStep: string }> {
    const { handle, description } = await this.describe(id, executionId);
    if (description.status.name !== 'FAILED' && description.status.name !== 'TIMED_OUT') {
      throw new JarvisProblem(`run ${id} is ${description.status.name.toLowerCase()}; only a failed run can be resumed`, 'conflict');
    }
    const events = (await handle.fetchHistory()).events ?? [];
    const EventType = temporal.api.enums.v1.EventType;
    const scheduled = new Map<number, { activityId: string; workflowTaskCompletedEventId: number }>();
    let failedStep: { stepId: string; workflowTaskCompletedEventId: number } | undefined;
    const compensated: string[] = [];
    for (const event of events) {
      const eventId = Number(event.eventId);
      if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
        const attributes = event.activityTaskScheduledEventAttributes!;
        scheduled.set(eventId, { activityId: attributes.activityId ?? '', workflowTaskCompletedEventId: Number(attributes.workflowTaskCompletedEventId) });
      }
      const failedScheduledId =
        event.activityTaskFailedEventAttributes?.scheduledEventId ?? event.activityTaskTimedOutEventAttributes?.scheduledEventId;
      if (failedScheduledId != null) {
        const origin = scheduled.get(Number(failedScheduledId));
        if (origin?.activityId.startsWith('step:') && !failedStep) {
          failedStep = { stepId: origin.activityId.slice('step:'.length), workflowTaskCompletedEventId: origin.workflowTaskCompletedEventId };
        }
      }
      const completedScheduledId = event.activityTaskCompletedEventAttributes?.scheduledEventId;
      if (completedScheduledId != null) {
        const origin = scheduled.get(Number(completedScheduledId));
        if (origin?.activityId.startsWith('compensate:')) compensated.push(origin.activityId.split(':')[2] ?? origin.activityId);
      }
    }
    if (!failedStep) throw new JarvisProblem(`run ${id} has no failed action step to resume from; use "run rerun ${id}"`, 'conflict');
    if (compensated.length > 0) {
      throw new JarvisProblem(
        `run ${id} already ran compensations (${compensated.join(', ')}); resuming would skip work that was undone. Use "run rerun ${id}" instead.`,
        'conflict',
      );
    }
    // The new execution writes a complete row of its own; until then readers ask Temporal.
    await this.summaries?.forget(id);
    const response: protoTypes.api.workflowservice.v1.IResetWorkflowExecutionResponse = await this.client.workflowService.resetWorkflowExecution({
      namespace: this.client.options.namespace,
      workflowExecution: { workflowId: id, runId: description.runId },
      reason: `resume from failed step "${failedStep.stepId}" requested by ${requestedBy}`,
      workflowTaskFinishEventId: Long.fromNumber(failedStep.workflowTaskCompletedEventId),
      requestId: randomUUID(),
    });
    return { id, runId: response.runId ?? '', fromStep: failedStep.stepId };
  }

  async fetchHistory(id: string, executionId?: string): Promise<protoTypes.api.history.v1.IHistory> {
    const { handle } = await this.describe(id, executionId);
    return handle.fetchHistory();
  }

  /** The run's step timeline, built from its history, with each step's arguments and output (secrets masked). */
  async timeline(id: string, executionId?: string): Promise<TimelineEntry[]> {
    const history = await this.fetchHistory(id, executionId);
    const input = await this.decodePayload<RunInput>(history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]);
    const secrets = input ? secretInputValues(input.runbook, input.inputs) : [];
    const shown = async (payload: Payload | undefined, pick: (value: unknown) => unknown) => {
      const value = await this.decodePayload(payload).catch(() => undefined);
      if (value === undefined) return undefined;
      const text = redact(JSON.stringify(pick(value)) ?? 'null', secrets);
      return text.length > TIMELINE_PAYLOAD_CHARS ? `${text.slice(0, TIMELINE_PAYLOAD_CHARS)}…` : text;
    };
    return Promise.all(
      buildTimeline(history, id).map(async ({ entry, input: given, result }) => {
        const [args, output] = await Promise.all([shown(given as Payload | undefined, (value) => value), shown(result as Payload | undefined, (value) => (value as { output?: unknown }).output)]);
        return { ...entry, ...(args !== undefined ? { input: args } : {}), ...(output !== undefined ? { output } : {}) };
      }),
    );
  }

  /** A run's inputs as it was started (secret ones masked) and its runbook's name and version. */
  async runInputs(id: string, executionId?: string): Promise<{ runbook: string; version: string; inputs: Record<string, unknown> }> {
    const input = await this.originalInput(id, executionId);
    return { runbook: input.runbook.name, version: input.runbook.version, inputs: maskSecretInputs(input.runbook, input.inputs) };
  }

  /** Undoes the payload codecs (last first) and converts a history payload back to its value. */
  private async decodePayload<T>(payload: Payload | null | undefined): Promise<T | undefined> {
    if (!payload) return undefined;
    let decoded = [payload];
    for (const codec of [...(this.client.options.dataConverter.payloadCodecs ?? [])].reverse()) decoded = await codec.decode(decoded);
    return defaultPayloadConverter.fromPayload<T>(decoded[0]!);
  }
}
