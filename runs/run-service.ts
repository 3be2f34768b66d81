// The one object the API and CLI hold for runs: it decides on, cancels,
// reruns and resumes runs itself, and hands starts to RunStarts, reads to
// RunQueries and history to RunHistory. Temporal holds run state; the
// run-summary projection that runs write themselves serves the reads.
import { WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { temporal as protoTypes } from '@temporalio/proto';
import Long from 'long';
import type { RunbookCatalog } from '../manifest/catalog.js';
import { JarvisProblem } from '../manifest/errors.js';
import type { CompiledManifest, LoadResult } from '../manifest/loader.js';
import type { Role } from '../manifest/types.js';
import type { RunAuthority } from '../security/run-authority.js';
import { approveStepUpdate, fleetTargetsQuery, progressQuery, rejectStepUpdate, type FleetTargetsPage, type FleetTargetsRequest } from '../workflows/messages.js';
import type { ApprovalAnswer, ListRunsFilter, RunDetails, RunInputs, RunLocation, RunPage, RunStatistics, RunSummary, StartedRun, WaitingApproval } from './run-contract.js';
import { findResumePoint, RunHistory } from './run-history.js';
import { RunQueries } from './run-queries.js';
import { RunStarts, type PlannedStart, type RunServiceHooks, type StartRunRequest } from './run-starts.js';
import type { RunSummaryStore } from './run-summary-store.js';
import type { TimelineEntry } from './timeline.js';

export class RunService {
  private readonly starts: RunStarts;
  private readonly queries: RunQueries;
  private readonly history: RunHistory;

  constructor(
    private readonly client: Client,
    catalog: RunbookCatalog,
    taskQueue: string,
    /** Signs starts and decisions: workers refuse what the API did not sign. */
    private readonly authority: RunAuthority,
    /** The run-summary projection, when the installation has a database. */
    private readonly summaries?: RunSummaryStore,
    hooks: RunServiceHooks = {},
  ) {
    this.starts = new RunStarts(client, catalog, taskQueue, authority, hooks);
    this.queries = new RunQueries(client, summaries);
    this.history = new RunHistory(client, this.queries);
  }

  compileRunbook(name: string): CompiledManifest {
    return this.starts.compileRunbook(name);
  }

  expectValid(result: LoadResult, message: string): CompiledManifest {
    return this.starts.expectValid(result, message);
  }

  startRun(request: StartRunRequest): Promise<StartedRun> {
    return this.starts.startRun(request);
  }

  planStart(request: StartRunRequest): PlannedStart {
    return this.starts.planStart(request);
  }

  /** Rebuilds a run's projection row from Temporal (see RunProjectionRepair). */
  repairSummary(id: string): Promise<void> {
    return this.queries.repairSummary(id);
  }

  listRuns(filter: ListRunsFilter = {}): Promise<RunSummary[]> {
    return this.queries.listRuns(filter);
  }

  listRunPage(filter: ListRunsFilter = {}): Promise<RunPage> {
    return this.queries.listRunPage(filter);
  }

  locateRun(id: string): Promise<RunLocation> {
    return this.queries.locateRun(id);
  }

  runEnvironment(id: string): Promise<string> {
    return this.queries.runEnvironment(id);
  }

  showRun(id: string): Promise<RunDetails> {
    return this.queries.showRun(id);
  }

  waitingApprovals(environments: string[]): Promise<WaitingApproval[]> {
    return this.queries.waitingApprovals(environments);
  }

  runStatistics(environments: string[], days: number): Promise<RunStatistics> {
    return this.queries.runStatistics(environments, days);
  }

  fetchHistory(id: string, executionId?: string): Promise<protoTypes.api.history.v1.IHistory> {
    return this.history.fetchHistory(id, executionId);
  }

  timeline(id: string, executionId?: string): Promise<TimelineEntry[]> {
    return this.history.timeline(id, executionId);
  }

  runInputs(id: string, executionId?: string): Promise<RunInputs> {
    return this.history.runInputs(id, executionId);
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
    const { handle, description } = await this.queries.describe(id, executionId);
    if (description.status.name !== 'RUNNING') throw new JarvisProblem(`run ${id} is ${description.status.name.toLowerCase()}, not waiting for a decision`, 'conflict');
    try {
      return await send(handle);
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError) throw new JarvisProblem(error.cause?.message ?? error.message, 'forbidden');
      throw error;
    }
  }

  async cancelRun(id: string, executionId?: string): Promise<void> {
    const { handle, description } = await this.queries.describe(id, executionId);
    if (description.status.name !== 'RUNNING') throw new JarvisProblem(`run ${id} is already ${description.status.name.toLowerCase()}`, 'conflict');
    await handle.cancel();
  }

  /** A new run with the same manifest version and inputs, linked to the original. */
  /** `idempotency`: a token (idempotencyToken) naming the re-run, so a retried request answers the same one. */
  /** `targets`: fleet steps run on the original's failed targets only (`failed`) or on the very targets it resolved (`same`). */
  async rerun(id: string, startedBy: string, executionId?: string, idempotency?: string, targets?: 'failed' | 'same'): Promise<StartedRun> {
    const original = await this.history.originalInput(id, executionId);
    const fleetTargets = targets ? await this.targetsOf(id, executionId, targets) : undefined;
    return this.startRun({
      ...(fleetTargets ? { fleetTargets } : {}),
      runbook: { runbook: original.runbook, children: original.children },
      inputs: original.inputs,
      environment: original.environment,
      startedBy,
      rerunOf: id,
      ...(idempotency !== undefined ? { idempotency } : {}),
    });
  }

  /** A page of a fleet step's targets with their results, from the run's fleetTargets query. */
  async fleetTargets(id: string, request: FleetTargetsRequest, executionId?: string): Promise<FleetTargetsPage> {
    const { handle } = await this.queries.describe(id, executionId);
    const page = await handle.query(fleetTargetsQuery, request);
    if (!page) throw new JarvisProblem(`run ${id} has no fleet step${request.stepId ? ` "${request.stepId}"` : ''} that started`, 'not-found');
    return page;
  }

  /** For each fleet step of a run that started, the names of its targets (of one status, or all). */
  private async targetsOf(id: string, executionId: string | undefined, which: 'failed' | 'same'): Promise<Record<string, string[]>> {
    const { handle } = await this.queries.describe(id, executionId);
    const progress = await handle.query(progressQuery);
    const chosen: Record<string, string[]> = {};
    for (const step of progress.steps.filter((entry) => entry.fleet)) {
      const names: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await handle.query(fleetTargetsQuery, { stepId: step.id, ...(which === 'failed' ? { status: 'failed' as const } : {}), limit: 1_000, ...(cursor ? { cursor } : {}) });
        names.push(...(page?.targets ?? []).map((target) => target.node));
        cursor = page?.next;
      } while (cursor);
      chosen[step.id] = names;
    }
    if (Object.keys(chosen).length === 0) throw new JarvisProblem(`run ${id} has no fleet step that started: re-run it without "targets"`, 'conflict');
    if (which === 'failed' && Object.values(chosen).every((names) => names.length === 0)) throw new JarvisProblem(`run ${id} has no failed target to run again`, 'conflict');
    return chosen;
  }

  /**
   * Resets a failed run to just before its failed step, so steps that completed
   * are not executed again. Refused when compensations already undid work.
   */
  async resume(id: string, requestedBy: string, executionId?: string): Promise<{ id: string; runId: string; fromStep: string }> {
    const { handle, description } = await this.queries.describe(id, executionId);
    if (description.status.name !== 'FAILED' && description.status.name !== 'TIMED_OUT') {
      throw new JarvisProblem(`run ${id} is ${description.status.name.toLowerCase()}; only a failed run can be resumed`, 'conflict');
    }
    const { failedStep, compensated } = findResumePoint((await handle.fetchHistory()).events ?? []);
    if (!failedStep) throw new JarvisProblem(`run ${id} has no failed action step to resume from; use "run rerun ${id}"`, 'conflict');
    if (compensated.length > 0) {
      throw new JarvisProblem(`run ${id} already ran compensations (${compensated.join(', ')}); resuming would skip work that was undone. Use "run rerun ${id}" instead.`, 'conflict');
    }
    // The new execution writes a complete row of its own; until then readers ask Temporal.
    await this.summaries?.forget(id);
    const response: protoTypes.api.workflowservice.v1.IResetWorkflowExecutionResponse = await this.client.workflowService.resetWorkflowExecution({
      namespace: this.client.options.namespace,
      workflowExecution: { workflowId: id, runId: description.runId },
      reason: `resume from failed step "${failedStep.stepId}" requested by ${requestedBy}`,
      workflowTaskFinishEventId: Long.fromNumber(failedStep.workflowTaskCompletedEventId),
      // One request id per failed execution: Temporal takes a repeated reset of it as the same one.
      requestId: `resume:${description.runId}:${failedStep.workflowTaskCompletedEventId}`,
    });
    return { id, runId: response.runId ?? '', fromStep: failedStep.stepId };
  }
}
