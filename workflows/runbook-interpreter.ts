// The one workflow that runs every runbook manifest, deterministically.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  condition,
  executeChild,
  isCancellation,
  ParentClosePolicy,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  startChild,
  TimeoutFailure,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { ActionActivity, ActionFailureDetails, ActionResult } from '../activities/index.js';
import { isNodeName, nodeTaskQueue } from '../manifest/node-names.js';
import { redact, secretInputValues } from '../manifest/redact.js';
import { evaluateCondition, renderValue } from '../manifest/template.js';
import type { ActionStep, ApprovalStep, ChildRunbookStep, CompiledRunbook, RunInput, Step } from '../manifest/types.js';
import type { RunAuthorizationActivities } from '../runs/run-authorization-activities.js';
import type { RunSummaryActivities } from '../runs/run-summary-activity.js';
import { approvalBlocker, approvalBlockerMessage } from './approval-rule.js';
import { FleetRollout } from './fleet-rollout.js';
import { knowledgeIngest } from './knowledge-ingest.js';
import {
  APPROVAL_REJECTED,
  approveStepUpdate,
  fleetTargetsQuery,
  RUN_REFUSED,
  progressQuery,
  rejectStepUpdate,
  type ApprovalAnswer,
  type ApproveStepRequest,
  type RejectStepRequest,
  type CompensationProgress,
  type RunProgress,
  type RunResult,
  type StepProgress,
} from './messages.js';

interface StepState {
  output?: unknown;
  status: StepProgress['status'];
}

interface PendingCompensation {
  forStep: string;
  steps: ActionStep[];
}

const OUTPUT_SUMMARY_CHARS = 240;
/** Manifests compiled before steps could name a node carry no pickup timeout. */
const DEFAULT_PICKUP_TIMEOUT_MS = 5 * 60_000;
/** Runs started before the run-summary projection existed replay without it. */
const PROJECTION_PATCH = 'run-summary-projection';
/** Runs recorded before AI Ops ingestion existed replay without starting it. */
const KNOWLEDGE_PATCH = 'knowledge-ingest';
/** Runs recorded before starts and decisions were signed by the API replay without checking them. */
const SIGNED_START_PATCH = 'signed-start';
const SIGNED_DECISIONS_PATCH = 'signed-decisions';
/**
 * Runs recorded before a worker crash was retried for every step replay with
 * the manifest's attempts as the retry policy (and send the activity no count).
 */
const CRASH_RETRY_PATCH = 'crash-retry';
/** Runs publish their progress as they start too, so "run started" can be notified from the projection. */
const PUBLISH_AT_START_PATCH = 'publish-at-start';
/**
 * Runs ask every later patch as they start, before any local activity: a
 * patch first asked in the activation that resolved the start's local
 * activities could be recorded in the next workflow task, and such a history
 * failed to replay ("patch marker ... but there is no corresponding change
 * command"), so a query or a worker restart broke the run.
 */
const EARLY_PATCHES_PATCH = 'early-patches';
/**
 * Runs publish their step changes too, at most one write per second, so a
 * running run is listed and shown from the projection (issue 16).
 */
const PUBLISH_STEPS_PATCH = 'publish-steps';
const STEP_PUBLISH_INTERVAL_MS = 1_000;
/**
 * Attempts a step gets beyond the manifest's, for attempts that end with their
 * worker (heartbeat or start-to-close timeout): the action's own failures are
 * final from the manifest's last attempt on (activities/index.ts).
 */
const CRASH_RETRY_ATTEMPTS = 2;

const { recordRunSummary } = proxyLocalActivities<RunSummaryActivities>({ startToCloseTimeout: '10 seconds', retry: { maximumAttempts: 3, initialInterval: '200 milliseconds' } });

const { verifyRunStart, verifyDecision } = proxyLocalActivities<RunAuthorizationActivities>({ startToCloseTimeout: '10 seconds', retry: { maximumAttempts: 5, initialInterval: '200 milliseconds' } });

function now(): string {
  return new Date().toISOString();
}

function summarize(value: unknown, secrets: readonly string[]): string | undefined {
  if (value === undefined) return undefined;
  const text = redact(JSON.stringify(value), secrets);
  return text.length > OUTPUT_SUMMARY_CHARS ? `${text.slice(0, OUTPUT_SUMMARY_CHARS)}…` : text;
}

function flattenSteps(steps: Step[], group?: string): StepProgress[] {
  return steps.flatMap((step) => {
    const entry: StepProgress = {
      id: step.id,
      kind: step.kind,
      ...(step.title ? { title: step.title } : {}),
      ...(step.kind === 'action' ? { action: step.action } : {}),
      ...(group ? { group } : {}),
      status: 'pending',
      attempts: 0,
    };
    return step.kind === 'parallel' ? [entry, ...flattenSteps(step.steps, step.id)] : [entry];
  });
}

/** The innermost failure, and the attempt that produced it when an action reported one. */
function describeFailure(error: unknown): { message: string; type: string; attempt?: number } {
  let current: unknown = error;
  while ((current instanceof ActivityFailure || current instanceof ChildWorkflowFailure) && current.cause) current = current.cause;
  if (current instanceof ApplicationFailure) {
    const details = current.details?.[0] as Partial<ActionFailureDetails> | undefined;
    return { message: current.message, type: current.type ?? 'Error', attempt: details?.attempt };
  }
  if (current instanceof Error) return { message: current.message, type: current.name };
  return { message: String(error), type: 'Error' };
}

function withInputDefaults(runbook: CompiledRunbook, inputs: Record<string, unknown>): Record<string, unknown> {
  const properties = (runbook.inputs.properties ?? {}) as Record<string, { default?: unknown }>;
  const withDefaults: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(properties)) {
    if (schema && schema.default !== undefined) withDefaults[name] = schema.default;
  }
  return { ...withDefaults, ...inputs };
}

/** What the API signed as a decision's note: an approval's comment, a rejection's reason. */
function noteOf(request: ApproveStepRequest | RejectStepRequest): { note?: string } {
  const note = 'reason' in request ? request.reason : request.comment;
  return note === undefined ? {} : { note };
}

class StepFailure extends Error {
  constructor(
    readonly stepId: string,
    readonly original: { message: string; type: string },
    readonly source: unknown,
  ) {
    super(`step "${stepId}" failed: ${original.message}`);
  }
}

class RunbookRun {
  private readonly progress: RunProgress;
  private readonly stepsById = new Map<string, StepProgress>();
  private readonly states: Record<string, StepState> = {};
  private readonly outputs: Record<string, unknown> = {};
  private readonly compensations: PendingCompensation[] = [];
  private readonly approvals = new Map<string, { step: ApprovalStep; decision?: 'approved' | 'rejected' }>();
  /** Fleet steps that started, for the fleetTargets query. */
  private readonly fleets = new Map<string, FleetRollout>();
  private readonly secrets: string[];
  /** What changed since the projection was last written. */
  private readonly changedSteps = new Set<number>();
  private readonly positions = new Map<string, number>();
  private publishRequested = false;
  /** Steps changed since the last write, for a throttled write (runs that publish their steps). */
  private stepsChanged = false;
  private publishesSteps = false;
  private sendAllSteps = true;
  private closed = false;
  private published = 0;
  /** Why the run is refused: a decision reached it without the API's signature. */
  private refusal?: string;

  constructor(private readonly input: RunInput) {
    this.secrets = secretInputValues(input.runbook, input.inputs);
    this.progress = {
      runbook: input.runbook.name,
      version: input.runbook.version,
      environment: input.environment,
      startedBy: input.startedBy,
      ...(input.rerunOf ? { rerunOf: input.rerunOf } : {}),
      status: 'running',
      startedAt: now(),
      steps: flattenSteps(input.runbook.steps),
      compensations: [],
    };
    this.progress.steps.forEach((step, position) => {
      this.stepsById.set(step.id, step);
      this.positions.set(step.id, position);
    });
  }

  /** Notes a changed step, for the next projection write. */
  private touch(step: StepProgress): void {
    this.changedSteps.add(this.positions.get(step.id)!);
    this.stepsChanged = true;
  }

  /** Asks for a projection write (a step waits for people, a decision, the end of the run). */
  private requestPublish(): void {
    this.publishRequested = true;
  }

  /**
   * Writes the run's progress to the run-summary projection as it starts, when
   * a step starts waiting for an approval, when one is decided and when the
   * run ends, and (runs that publish their steps) a second after a step
   * changed, one write at a time, sending only the steps changed since the
   * last write: a write per step would cost a fast run a local activity per
   * step. Best effort: readers fall back to Temporal when the projection is
   * missing or stale, and its repair rebuilds rows from Temporal.
   */
  private async publishProgress(): Promise<void> {
    for (;;) {
      await condition(() => this.publishRequested || this.closed || (this.publishesSteps && this.stepsChanged));
      // A step change waits a moment for the next ones: a fast run writes once a second, not once a step.
      if (!this.publishRequested && !this.closed) await condition(() => this.publishRequested || this.closed, STEP_PUBLISH_INTERVAL_MS);
      if (!this.publishRequested && !(this.publishesSteps && this.stepsChanged)) return;
      this.publishRequested = false;
      this.stepsChanged = false;
      const { steps, ...run } = this.progress;
      const complete = this.sendAllSteps;
      const positions = complete ? steps.map((_, position) => position) : [...this.changedSteps];
      this.changedSteps.clear();
      this.sendAllSteps = false;
      try {
        const answer = await recordRunSummary({
          workflowId: workflowInfo().workflowId,
          executionId: workflowInfo().runId,
          sequence: ++this.published,
          complete,
          run,
          steps: positions.map((position) => ({ position, step: steps[position]! })),
          ...(parentRunOf() ? { parentRunId: parentRunOf() } : {}),
          ...(this.publishesSteps ? { liveSteps: true } : {}),
        });
        if (answer === 'resend-all') this.sendAllSteps = this.publishRequested = true;
      } catch {
        this.sendAllSteps = true;
      }
    }
  }

  registerHandlers(): void {
    setHandler(progressQuery, () => this.progress);
    setHandler(fleetTargetsQuery, (request) => {
      const fleet = request.stepId !== undefined ? this.fleets.get(request.stepId) : this.fleets.values().next().value;
      return fleet ? fleet.page(request) : null;
    });
    setHandler(approveStepUpdate, (request) => (this.decisionsAreSigned() ? this.verified(request, 'approve').then(() => this.approve(request)) : this.approve(request)), {
      validator: (request) => this.validateApproval(request),
    });
    setHandler(rejectStepUpdate, (request) => (this.decisionsAreSigned() ? this.verified(request, 'reject').then(() => this.reject(request)) : this.reject(request)), {
      validator: (request) => this.validateRejection(request),
    });
  }

  private decisionsAreSigned(): boolean {
    return patched(SIGNED_DECISIONS_PATCH);
  }

  /**
   * Has the API's signature of a decision checked; a decision that did not
   * come from the API ends the run refused. The step is validated again
   * afterwards: another decision may have landed while this one was checked.
   */
  private async verified(request: ApproveStepRequest | RejectStepRequest, decision: 'approve' | 'reject'): Promise<void> {
    const verdict = await verifyDecision({
      claim: { workflowId: workflowInfo().workflowId, stepId: request.stepId, decision, user: request.user, roles: request.roles, ...noteOf(request) },
      ...(request.authorization ? { authorization: request.authorization } : {}),
      receivedAt: now(),
      environment: this.input.environment,
    });
    if (!verdict.ok) {
      this.refusal ??= `refused: a decision on step "${request.stepId}" in the name of ${request.user} did not come from Jarvis (${verdict.reason})`;
      throw ApplicationFailure.nonRetryable(this.refusal, RUN_REFUSED);
    }
    if (decision === 'approve') this.validateApproval(request as ApproveStepRequest);
    else this.validateRejection(request as RejectStepRequest);
  }

  private approve(request: ApproveStepRequest): ApprovalAnswer {
    const entry = this.approvals.get(request.stepId)!;
    const progress = this.stepsById.get(request.stepId)!.approval!;
    progress.approvedBy.push({ user: request.user, at: now(), ...(request.comment ? { comment: request.comment } : {}) });
    if (progress.approvedBy.length >= entry.step.approvals) entry.decision = 'approved';
    this.touch(this.stepsById.get(request.stepId)!);
    this.requestPublish();
    return this.approvalAnswer(request.stepId);
  }

  private reject(request: RejectStepRequest): ApprovalAnswer {
    const entry = this.approvals.get(request.stepId)!;
    this.stepsById.get(request.stepId)!.approval!.rejectedBy = { user: request.user, at: now(), reason: request.reason };
    entry.decision = 'rejected';
    this.touch(this.stepsById.get(request.stepId)!);
    this.requestPublish();
    return this.approvalAnswer(request.stepId);
  }

  private validateApproval(request: ApproveStepRequest): void {
    this.validateDecision(request, 'approve');
  }

  private validateRejection(request: RejectStepRequest): void {
    this.validateDecision(request, 'reject');
    if (!request.reason?.trim()) throw new Error('a rejection needs a reason');
  }

  private validateDecision({ stepId, user, roles }: ApproveStepRequest | RejectStepRequest, decision: 'approve' | 'reject'): void {
    const step = this.stepsById.get(stepId);
    if (!step) throw new Error(`this run has no step "${stepId}"`);
    if (this.refusal) throw new Error(this.refusal);
    const blocker = approvalBlocker({
      user,
      roles,
      startedBy: this.input.startedBy,
      step: { status: step.status, approval: step.approval, decided: this.approvals.get(stepId)?.decision !== undefined },
      decision,
      now: Date.now(),
    });
    if (blocker) throw new Error(approvalBlockerMessage(blocker, { user, stepId, environment: this.input.environment }));
  }

  private approvalAnswer(stepId: string): ApprovalAnswer {
    const entry = this.approvals.get(stepId)!;
    const progress = this.stepsById.get(stepId)!.approval!;
    return { stepId, decision: entry.decision ?? 'pending', approvals: progress.approvedBy.length, required: entry.step.approvals };
  }

  private scope() {
    const info = workflowInfo();
    return { inputs: this.input.inputs, steps: this.states, run: { id: info.workflowId, startedBy: this.input.startedBy, environment: this.input.environment, runbook: this.input.runbook.name } };
  }

  async execute(): Promise<RunResult> {
    if (patched(EARLY_PATCHES_PATCH)) {
      patched(CRASH_RETRY_PATCH);
      patched(SIGNED_DECISIONS_PATCH);
      patched(KNOWLEDGE_PATCH);
    }
    const projected = patched(PROJECTION_PATCH);
    if (projected && patched(PUBLISH_AT_START_PATCH)) this.requestPublish();
    this.publishesSteps = projected && patched(PUBLISH_STEPS_PATCH);
    const publishing = projected ? CancellationScope.nonCancellable(() => this.publishProgress()) : Promise.resolve();
    try {
      return await this.runToEnd();
    } finally {
      this.closed = true;
      await publishing;
    }
  }

  /**
   * A run acts only on the API's say-so: its start must carry the API's
   * signature. A child runbook is started by its parent run, which was
   * checked; any other parent (a schedule's fire) passes the API's signature on.
   */
  private async verifyStart(): Promise<void> {
    const info = workflowInfo();
    if (parentRunOf() || !patched(SIGNED_START_PATCH)) return;
    const verdict = await verifyRunStart({ workflowId: info.workflowId, startedAt: info.startTime.toISOString(), input: this.input });
    if (!verdict.ok) throw new StepFailure('(run)', { message: `refused: ${verdict.reason}`, type: RUN_REFUSED }, undefined);
  }

  private async runToEnd(): Promise<RunResult> {
    try {
      await this.verifyStart();
      await this.runSequence(this.input.runbook.steps);
      this.finish('succeeded');
      await this.reportToKnowledge();
      return { status: 'succeeded', outputs: this.outputs, progress: this.progress };
    } catch (error) {
      const cancelled = isCancellation(error);
      if (cancelled) this.markUnfinished('cancelled');
      // Compensations must run even when the run itself is being cancelled.
      const compensationErrors = await CancellationScope.nonCancellable(() => this.compensate());
      if (cancelled) {
        this.finish('cancelled', 'the run was cancelled');
        throw error;
      }
      const failure = error instanceof StepFailure ? error : new StepFailure('(run)', describeFailure(error), error);
      const rejected = failure.original.type === APPROVAL_REJECTED;
      const message = compensationErrors.length > 0 ? `${failure.message} (and ${compensationErrors.join('; ')})` : failure.message;
      this.finish(rejected ? 'rejected' : 'failed', message);
      // What did not come from Jarvis teaches the knowledge base nothing.
      if (failure.original.type !== RUN_REFUSED) await this.reportToKnowledge();
      throw ApplicationFailure.create({ message, type: failure.original.type, nonRetryable: true, details: [{ failedStep: failure.stepId, compensationErrors, progress: this.progress }] });
    }
  }

  /**
   * Hands a failed run, and any run of an AI plan, to the knowledge-ingest
   * workflow, abandoned so the run ends without waiting for it. Child
   * runbooks are part of their parent's run and are not ingested on their own.
   */
  private async reportToKnowledge(): Promise<void> {
    const info = workflowInfo();
    if (parentRunOf()) return;
    if (this.progress.status !== 'failed' && !this.input.planId) return;
    if (!patched(KNOWLEDGE_PATCH)) return;
    try {
      await startChild(knowledgeIngest, {
        workflowId: `knowledge-ingest--${info.workflowId}--${info.runId}`,
        parentClosePolicy: ParentClosePolicy.ABANDON,
        args: [{ runId: info.workflowId, executionId: info.runId, ...(this.input.planId ? { planId: this.input.planId } : {}), progress: this.progress }],
      });
    } catch {
      // The knowledge base is an aid: a run's outcome never depends on it.
    }
  }

  private finish(status: RunProgress['status'], error?: string): void {
    this.progress.status = status;
    this.progress.endedAt = now();
    if (error) this.progress.error = redact(error, this.secrets);
    this.requestPublish();
  }

  private markUnfinished(status: 'cancelled'): void {
    for (const step of this.progress.steps) {
      if (step.status === 'running' || step.status === 'waiting' || step.status === 'pending') {
        step.status = status;
        step.endedAt ??= now();
        this.touch(step);
      }
    }
  }

  private async runSequence(steps: Step[]): Promise<void> {
    for (const step of steps) await this.runStep(step);
  }

  private async runStep(step: Step): Promise<void> {
    const progress = this.stepsById.get(step.id)!;
    this.touch(progress);
    if (step.when !== undefined && !evaluateCondition(step.when, this.scope())) {
      progress.status = 'skipped';
      this.states[step.id] = { status: 'skipped' };
      return;
    }
    progress.status = 'running';
    progress.startedAt = now();
    try {
      const output = await this.perform(step, progress);
      progress.status = 'succeeded';
      if (output !== undefined) {
        this.outputs[step.id] = output;
        progress.outputSummary = summarize(output, this.secrets);
      }
      this.states[step.id] = { status: 'succeeded', output };
    } catch (error) {
      if (isCancellation(error)) throw error;
      const failure = error instanceof StepFailure ? error : new StepFailure(step.id, describeFailure(error), error);
      progress.status = failure.original.type === APPROVAL_REJECTED ? 'rejected' : 'failed';
      progress.error = redact(failure.original.message, this.secrets);
      this.states[step.id] = { status: 'failed' };
      // A fleet rollout told to continue past its failure budget lets the run go on.
      const continueOnError = ((step.kind === 'action' || step.kind === 'runbook') && step.continueOnError) || (step.kind === 'action' && step.rollout?.onFailure === 'continue');
      if (!continueOnError) throw failure;
    } finally {
      progress.endedAt = now();
      this.touch(progress);
      // A decided approval leaves the inboxes that read the projection.
      if (step.kind === 'approval') this.requestPublish();
    }
  }

  private async perform(step: Step, progress: StepProgress): Promise<unknown> {
    switch (step.kind) {
      case 'action':
        // A fleet step compensates per target, inside its rollout; only steps with `targets` reach it (recorded histories never do).
        if (step.targets !== undefined) return this.runFleet(step, progress);
        // Registered before the step runs: a step that fails half-way may still need undoing.
        if (step.compensate.length > 0) this.compensations.push({ forStep: step.id, steps: step.compensate });
        return this.runAction(step, `step:${step.id}`, (attempts) => {
          progress.attempts = attempts;
          this.touch(progress);
        });
      case 'approval':
        return this.awaitApproval(step, progress);
      case 'sleep':
        await sleep(step.durationMs);
        return undefined;
      case 'runbook':
        return this.runChild(step, progress);
      case 'parallel': {
        const results = await Promise.allSettled(step.steps.map((child) => this.runStep(child)));
        const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
        if (failed) throw failed.reason;
        return undefined;
      }
    }
  }

  private async runFleet(step: ActionStep, progress: StepProgress): Promise<unknown> {
    const given = this.input.fleetTargets?.[step.id];
    const rollout = new FleetRollout(step, progress, {
      environment: this.input.environment,
      runbook: this.input.runbook.name,
      ...(given ? { givenTargets: given } : {}),
      secrets: this.secrets,
      scope: this.scope(),
      crashRetryAttempts: CRASH_RETRY_ATTEMPTS,
      awaitApproval: (approval) => this.awaitApproval(approval, progress),
      touch: () => this.touch(progress),
    });
    this.fleets.set(step.id, rollout);
    return rollout.run();
  }

  /** The node a step runs on, with its template rendered; anything but a node name fails the step. */
  private nodeOf(step: ActionStep, scope: ReturnType<RunbookRun['scope']>): string {
    const node = renderValue(step.node, scope);
    if (!isNodeName(node)) throw ApplicationFailure.nonRetryable(`step "${step.id}" names no valid node: ${JSON.stringify(node)}`, 'InvalidNode');
    return node;
  }

  private async runAction(step: ActionStep, activityId: string, onAttempts: (attempts: number) => void, scope = this.scope()): Promise<unknown> {
    // A step on a node goes to that node's agent; every other step keeps exactly the options (and commands) it always had.
    const node = step.node !== undefined ? this.nodeOf(step, scope) : undefined;
    const retriesCrashes = patched(CRASH_RETRY_PATCH);
    const maximumAttempts = retriesCrashes ? step.retry.maxAttempts + CRASH_RETRY_ATTEMPTS : step.retry.maxAttempts;
    const options: ActivityOptions = {
      activityId,
      ...(node !== undefined ? { taskQueue: nodeTaskQueue(this.input.environment, node), scheduleToStartTimeout: step.pickupTimeoutMs ?? DEFAULT_PICKUP_TIMEOUT_MS } : {}),
      startToCloseTimeout: step.timeoutMs,
      ...(step.heartbeatTimeoutMs ? { heartbeatTimeout: step.heartbeatTimeoutMs } : {}),
      retry: {
        maximumAttempts,
        initialInterval: step.retry.initialIntervalMs,
        backoffCoefficient: step.retry.backoffCoefficient,
        maximumInterval: step.retry.maximumIntervalMs,
        nonRetryableErrorTypes: step.retry.nonRetryableErrorTypes,
      },
    };
    const activities = proxyActivities<Record<string, ActionActivity>>(options);
    const perform = activities[step.action]!;
    onAttempts(1);
    try {
      const result: ActionResult = await perform(renderValue(step.with, scope), {
        runId: workflowInfo().workflowId,
        stepId: step.id,
        runbook: this.input.runbook.name,
        environment: this.input.environment,
        secrets: this.secrets,
        ...(retriesCrashes ? { maxAttempts: step.retry.maxAttempts } : {}),
      });
      onAttempts(result.attempt);
      return result.output;
    } catch (error) {
      // Temporal does not retry a task nobody picked up: say which agent is missing instead of "activity timeout".
      if (node !== undefined && error instanceof ActivityFailure && error.cause instanceof TimeoutFailure && error.cause.timeoutType === 'SCHEDULE_TO_START') {
        onAttempts(1);
        throw ApplicationFailure.nonRetryable(`node ${node} did not pick up the step (agent offline?)`, 'NodeUnavailable');
      }
      if (!isCancellation(error)) onAttempts(describeFailure(error).attempt ?? maximumAttempts);
      throw error;
    }
  }

  private async awaitApproval(step: ApprovalStep, progress: StepProgress): Promise<unknown> {
    const entry: { step: ApprovalStep; decision?: 'approved' | 'rejected' } = { step };
    this.approvals.set(step.id, entry);
    progress.status = 'waiting';
    this.touch(progress);
    this.requestPublish();
    progress.approval = {
      role: step.role,
      required: step.approvals,
      allowStarter: step.allowStarter,
      approvedBy: [],
      ...(step.deadlineMs ? { deadline: new Date(Date.now() + step.deadlineMs).toISOString() } : {}),
    };
    const settled = () => entry.decision !== undefined || this.refusal !== undefined;
    const decided = step.deadlineMs ? await condition(settled, step.deadlineMs) : await condition(settled).then(() => true);
    if (this.refusal) throw new StepFailure(step.id, { message: this.refusal, type: RUN_REFUSED }, undefined);
    if (!decided) {
      throw new StepFailure(step.id, { message: `no decision before the approval deadline (${progress.approval.deadline})`, type: APPROVAL_REJECTED }, undefined);
    }
    if (entry.decision === 'rejected') {
      const rejection = progress.approval.rejectedBy!;
      throw new StepFailure(step.id, { message: `rejected by ${rejection.user}: ${rejection.reason}`, type: APPROVAL_REJECTED }, undefined);
    }
    return { approvedBy: progress.approval.approvedBy.map((decision) => decision.user) };
  }

  private async runChild(step: ChildRunbookStep, progress: StepProgress): Promise<unknown> {
    const runbook = this.input.children[step.runbook];
    if (!runbook) throw ApplicationFailure.nonRetryable(`runbook "${step.runbook}" was not resolved when the run started`, 'UnknownRunbook');
    const workflowId = `${workflowInfo().workflowId}--${step.id}`;
    progress.childRunId = workflowId;
    this.touch(progress);
    const result = await executeChild(runbookInterpreter, {
      workflowId,
      args: [
        {
          runbook,
          children: this.input.children,
          inputs: withInputDefaults(runbook, renderValue(step.with, this.scope()) as Record<string, unknown>),
          environment: this.input.environment,
          startedBy: this.input.startedBy,
        },
      ],
    });
    return result.outputs;
  }

  /** Runs registered compensations in reverse order; every failure is reported, none is swallowed. */
  private async compensate(): Promise<string[]> {
    const errors: string[] = [];
    for (const pending of [...this.compensations].reverse()) {
      for (const step of pending.steps) {
        const scope = this.scope();
        if (step.when !== undefined && !evaluateCondition(step.when, scope)) continue;
        const record: CompensationProgress = { forStep: pending.forStep, id: step.id, action: step.action, status: 'running', attempts: 0, startedAt: now() };
        this.progress.compensations.push(record);
        try {
          await this.runAction(step, `compensate:${pending.forStep}:${step.id}`, (attempts) => (record.attempts = attempts), scope);
          record.status = 'succeeded';
        } catch (error) {
          record.status = 'failed';
          record.error = redact(describeFailure(error).message, this.secrets);
          errors.push(`compensation "${step.id}" of step "${pending.forStep}" failed: ${record.error}`);
        } finally {
          record.endedAt = now();
        }
      }
    }
    return errors;
  }
}

/**
 * The run this one is a child runbook of (started by a step of it, with an id
 * under the parent's), as opposed to a run started by a schedule's fire,
 * which is a run of its own in every way.
 */
function parentRunOf(): string | undefined {
  const { parent, workflowId } = workflowInfo();
  return parent && workflowId.startsWith(`${parent.workflowId}--`) ? parent.workflowId : undefined;
}

export async function runbookInterpreter(input: RunInput): Promise<RunResult> {
  const run = new RunbookRun(input);
  run.registerHandlers();
  return run.execute();
}
