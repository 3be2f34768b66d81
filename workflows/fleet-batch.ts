// One batch of a fleet rollout, as a child workflow of the run: its targets'
// action on each node's own agent task queue (or, for a node without an
// agent, over SSH from the main workers), at most `maxConcurrency` at a time,
// each failed target rolled back right away when asked. A child per batch
// keeps the run's own history to a few events per batch however many targets
// there are.
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, isCancellation, patched, proxyActivities, TimeoutFailure, workflowInfo, type ActivityOptions } from '@temporalio/workflow';
import type { FleetRoute, FleetTargetActivities } from '../activities/fleet/fleet-target-activities.js';
import type { ActionActivity, ActionFailureDetails, ActionResult } from '../activities/index.js';
import type { TargetResult } from '../manifest/fleet.js';
import { nodeTaskQueue } from '../manifest/node-names.js';
import { redact } from '../manifest/redact.js';
import type { StepRetryPolicy } from '../manifest/types.js';

/** One action of a fleet step (the step itself or one of its compensations), with its arguments already rendered. */
export interface FleetActionCall {
  id: string;
  action: string;
  args: unknown;
  retry: StepRetryPolicy;
  timeoutMs: number;
  heartbeatTimeoutMs?: number;
}

export interface FleetBatchInput {
  /** The run (its workflow id), runbook and environment the batch belongs to. */
  runId: string;
  runbook: string;
  environment: string;
  stepId: string;
  /** 1-based. */
  batch: number;
  /** `run`: the step on each target (and its compensations on a failed one); `compensate`: only the compensations. */
  mode: 'run' | 'compensate';
  step: FleetActionCall;
  compensate: FleetActionCall[];
  compensateFailed: boolean;
  targets: string[];
  maxConcurrency: number;
  /** Failures this batch may have; one more and it starts no more targets (the rest are skipped). Null: no limit. */
  failureBudget: number | null;
  pickupTimeoutMs: number;
  secrets: string[];
  /** Extra attempts for attempts that end with their worker (the interpreter's crash-retry). */
  crashRetryAttempts: number;
}

export interface FleetBatchResult {
  results: TargetResult[];
}

const OUTPUT_SUMMARY_CHARS = 240;

const { routeFleetTargets } = proxyActivities<FleetTargetActivities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 5, initialInterval: '1 second' } });

function now(): string {
  return new Date().toISOString();
}

function failureOf(error: unknown): { message: string; attempt?: number; pickup?: boolean } {
  let current: unknown = error;
  if (current instanceof ActivityFailure && current.cause instanceof TimeoutFailure && current.cause.timeoutType === 'SCHEDULE_TO_START')
    return { message: 'the node did not pick up the step (agent offline?)', pickup: true };
  while ((current instanceof ActivityFailure || current instanceof ChildWorkflowFailure) && current.cause) current = current.cause;
  if (current instanceof ApplicationFailure) return { message: current.message, attempt: (current.details?.[0] as Partial<ActionFailureDetails> | undefined)?.attempt };
  return { message: current instanceof Error ? current.message : String(current) };
}

class FleetBatch {
  /** How each target is reached; batches started before routing existed send every target to its agent. */
  private routes: Record<string, FleetRoute> = {};

  constructor(private readonly input: FleetBatchInput) {}

  private async call(call: FleetActionCall, node: string, activityId: string): Promise<ActionResult> {
    const route = this.routes[node] ?? { via: 'agent' };
    if (route.via === 'none') throw ApplicationFailure.nonRetryable(route.reason, 'Unreachable');
    const options: ActivityOptions = {
      activityId,
      // Over SSH: the main workers (the run's own task queue) reach the node.
      ...(route.via === 'agent' ? { taskQueue: nodeTaskQueue(this.input.environment, node) } : {}),
      scheduleToStartTimeout: this.input.pickupTimeoutMs,
      startToCloseTimeout: call.timeoutMs,
      ...(call.heartbeatTimeoutMs ? { heartbeatTimeout: call.heartbeatTimeoutMs } : {}),
      retry: {
        maximumAttempts: call.retry.maxAttempts + this.input.crashRetryAttempts,
        initialInterval: call.retry.initialIntervalMs,
        backoffCoefficient: call.retry.backoffCoefficient,
        maximumInterval: call.retry.maximumIntervalMs,
        nonRetryableErrorTypes: call.retry.nonRetryableErrorTypes,
      },
    };
    const perform = proxyActivities<Record<string, ActionActivity>>(options)[call.action]!;
    return perform(call.args, {
      runId: this.input.runId,
      stepId: call.id === this.input.stepId ? `${call.id}@${node}` : `${this.input.stepId}/${call.id}@${node}`,
      runbook: this.input.runbook,
      environment: this.input.environment,
      secrets: this.input.secrets,
      maxAttempts: call.retry.maxAttempts,
      ...(route.via === 'ssh' ? { ssh: { node, address: route.address, connection: route.connection, user: route.user } } : {}),
    });
  }

  private summarize(value: unknown): string | undefined {
    if (value === undefined) return undefined;
    const text = redact(JSON.stringify(value), this.input.secrets);
    return text.length > OUTPUT_SUMMARY_CHARS ? `${text.slice(0, OUTPUT_SUMMARY_CHARS)}…` : text;
  }

  /** The compensations of one target, in order; the first failure ends them and is reported. */
  private async compensateTarget(node: string): Promise<NonNullable<TargetResult['compensation']>> {
    for (const call of this.input.compensate) {
      try {
        await this.call(call, node, `compensate:${this.input.stepId}:${call.id}:${node}`);
      } catch (error) {
        if (isCancellation(error)) throw error;
        return { status: 'failed', error: redact(`${call.id}: ${failureOf(error).message}`, this.input.secrets) };
      }
    }
    return { status: 'succeeded' };
  }

  private async runTarget(node: string): Promise<TargetResult> {
    const startedAt = Date.now();
    const result: TargetResult = { node, batch: this.input.batch, status: 'running', attempts: 1, startedAt: now() };
    const route = this.routes[node];
    // Nothing ran on a node that cannot be reached: nothing to roll back either.
    if (route?.via === 'none') return { ...result, status: 'failed', attempts: 0, error: route.reason, endedAt: now(), durationMs: 0 };
    try {
      const answer = await this.call(this.input.step, node, `step:${this.input.stepId}:${node}`);
      result.status = 'succeeded';
      result.attempts = answer.attempt;
      const summary = this.summarize(answer.output);
      if (summary !== undefined) result.outputSummary = summary;
    } catch (error) {
      if (isCancellation(error)) throw error;
      const failure = failureOf(error);
      result.status = 'failed';
      result.attempts = failure.pickup ? 1 : (failure.attempt ?? this.input.step.retry.maxAttempts);
      result.error = redact(failure.message, this.input.secrets);
      if (this.input.compensateFailed && this.input.compensate.length > 0) result.compensation = await this.compensateTarget(node);
    }
    result.endedAt = now();
    result.durationMs = Date.now() - startedAt;
    return result;
  }

  async run(): Promise<FleetBatchResult> {
    if (patched('fleet-routes')) {
      const actions = [this.input.step.action, ...this.input.compensate.map((call) => call.action)];
      this.routes = await routeFleetTargets({ environment: this.input.environment, targets: this.input.targets, actions: [...new Set(actions)] });
    }
    const results = new Map<string, TargetResult>();
    const queue = [...this.input.targets];
    let failures = 0;
    let stopped = false;
    const lane = async (): Promise<void> => {
      for (let node = queue.shift(); node !== undefined && !stopped; node = stopped ? undefined : queue.shift()) {
        const result =
          this.input.mode === 'run' ? await this.runTarget(node) : { node, batch: this.input.batch, status: 'succeeded' as const, attempts: 0, compensation: await this.compensateTarget(node) };
        results.set(node, result);
        if (result.status === 'failed') failures += 1;
        if (this.input.failureBudget !== null && failures > this.input.failureBudget) stopped = true;
      }
    };
    const lanes = Math.max(1, Math.min(this.input.maxConcurrency, this.input.targets.length));
    await Promise.all(Array.from({ length: lanes }, () => lane()));
    return { results: this.input.targets.map((node) => results.get(node) ?? { node, batch: this.input.batch, status: 'skipped', attempts: 0 }) };
  }
}

export async function fleetBatch(input: FleetBatchInput): Promise<FleetBatchResult> {
  // Only a verified run starts batches (as its children): one started on its own, by whoever reaches Temporal, acts on no node.
  const parent = workflowInfo().parent;
  if (!parent || parent.workflowId !== input.runId) throw ApplicationFailure.nonRetryable(`a fleet batch runs only as a child of its run ${input.runId}, not on its own`, 'NotAChildOfItsRun');
  return new FleetBatch(input).run();
}
