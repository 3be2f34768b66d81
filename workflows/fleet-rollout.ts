// A fleet step inside the run: resolves its targets (or takes those a re-run
// names), splits them in batches, runs each batch as a `fleetBatch` child,
// keeps every target's result for the fleetTargets query, and stops when more
// targets failed than the budget allows (the rest skipped, compensations as
// configured). The run's progress carries the counts only.
import { ApplicationFailure, executeChild, isCancellation, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { FleetTargetActivities } from '../activities/fleet/fleet-target-activities.js';
import {
  amountOf,
  amountProblem,
  COMPENSATE_MODES,
  MAX_BATCH_TARGETS,
  type CompensateMode,
  MAX_BATCHES,
  splitBatches,
  type RolloutAmount,
  type TargetResult,
  type TargetStatus,
} from '../manifest/fleet.js';
import { renderValue } from '../manifest/template.js';
import type { ActionStep, ApprovalStep } from '../manifest/types.js';
import { fleetBatch, type FleetActionCall, type FleetBatchInput } from './fleet-batch.js';
import { FAILURE_BUDGET_EXCEEDED, FLEET_TARGETS_MAX_PAGE, type FleetProgress, type FleetTargetsPage, type FleetTargetsRequest, type StepProgress } from './messages.js';

const { resolveFleetTargets } = proxyActivities<FleetTargetActivities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 5, initialInterval: '1 second' } });

const DEFAULT_PAGE = 100;

export interface FleetRolloutContext {
  environment: string;
  runbook: string;
  /** Targets a re-run gives this step instead of its selector's. */
  givenTargets?: string[];
  secrets: string[];
  scope: Parameters<typeof renderValue>[1];
  crashRetryAttempts: number;
  /** The interpreter's approval machinery: resolves when approved, throws when rejected or past its deadline. */
  awaitApproval(approval: ApprovalStep): Promise<unknown>;
  /** Tells the interpreter the step's progress changed. */
  touch(): void;
}

function emptyCounts(): Record<TargetStatus, number> {
  return { pending: 0, running: 0, succeeded: 0, failed: 0, skipped: 0 };
}

export class FleetRollout {
  private order: string[] = [];
  private readonly results = new Map<string, TargetResult>();
  private fleet?: FleetProgress;

  constructor(
    private readonly step: ActionStep,
    private readonly progress: StepProgress,
    private readonly context: FleetRolloutContext,
  ) {}

  /** A page of targets in batch order, optionally of one status. */
  page(request: FleetTargetsRequest): FleetTargetsPage {
    const limit = Math.min(Math.max(1, request.limit ?? DEFAULT_PAGE), FLEET_TARGETS_MAX_PAGE);
    const start = request.cursor ? Number(request.cursor) : 0;
    const targets: TargetResult[] = [];
    let position = Number.isInteger(start) && start >= 0 ? start : 0;
    for (; position < this.order.length && targets.length < limit; position += 1) {
      const result = this.results.get(this.order[position]!)!;
      if (!request.status || result.status === request.status) targets.push(result);
    }
    return { stepId: this.step.id, targets, ...(position < this.order.length ? { next: String(position) } : {}) };
  }

  private amount(value: RolloutAmount, field: string, minimum: 0 | 1): RolloutAmount {
    const rendered = renderValue(value, this.context.scope) as RolloutAmount;
    const problem = amountProblem(rendered, minimum);
    if (problem) throw ApplicationFailure.nonRetryable(`step "${this.step.id}": rollout.${field}: ${problem}`, 'InvalidRollout');
    return rendered;
  }

  /** Which targets get the compensations, the manifest's word or its expression's (rendering a literal changes nothing). */
  private compensateMode(): CompensateMode {
    const mode = renderValue(this.step.rollout!.compensate, this.context.scope);
    if (!(COMPENSATE_MODES as readonly unknown[]).includes(mode))
      throw ApplicationFailure.nonRetryable(`step "${this.step.id}": rollout.compensate is ${JSON.stringify(mode)}, not ${COMPENSATE_MODES.join(', ')}`, 'InvalidRollout');
    return mode as CompensateMode;
  }

  private call(step: ActionStep): FleetActionCall {
    return {
      id: step.id,
      action: step.action,
      args: renderValue(step.with, this.context.scope),
      retry: step.retry,
      timeoutMs: step.timeoutMs,
      ...(step.heartbeatTimeoutMs ? { heartbeatTimeoutMs: step.heartbeatTimeoutMs } : {}),
    };
  }

  private record(result: TargetResult): void {
    const fleet = this.fleet!;
    fleet.counts[this.results.get(result.node)!.status] -= 1;
    fleet.counts[result.status] += 1;
    this.results.set(result.node, result);
  }

  private async runBatch(input: Omit<FleetBatchInput, 'runId' | 'runbook' | 'environment' | 'stepId' | 'pickupTimeoutMs' | 'secrets' | 'crashRetryAttempts'>, suffix: string): Promise<TargetResult[]> {
    const runId = workflowInfo().workflowId;
    try {
      const { results } = await executeChild(fleetBatch, {
        workflowId: `${runId}--fleet--${this.step.id}--${suffix}`,
        args: [
          {
            ...input,
            runId,
            runbook: this.context.runbook,
            environment: this.context.environment,
            stepId: this.step.id,
            pickupTimeoutMs: this.step.pickupTimeoutMs ?? 5 * 60_000,
            secrets: this.context.secrets,
            crashRetryAttempts: this.context.crashRetryAttempts,
          },
        ],
      });
      return results;
    } catch (error) {
      // The batch itself failed (not one of its targets): none of its targets has a result to trust.
      if (isCancellation(error)) throw error;
      const message = error instanceof Error ? error.message : String(error);
      if (input.mode === 'compensate') return input.targets.map((node) => ({ ...this.results.get(node)!, compensation: { status: 'failed' as const, error: message } }));
      return input.targets.map((node) => ({ node, batch: input.batch, status: 'failed' as const, attempts: 0, error: `the batch failed: ${message}` }));
    }
  }

  async run(): Promise<unknown> {
    const { step, context } = this;
    const rollout = step.rollout!;
    const given = context.givenTargets;
    const names = given ?? (await resolveFleetTargets({ environment: context.environment, selector: renderValue(step.targets, context.scope), stepId: step.id }));
    const batchSize = amountOf(this.amount(rollout.batch, 'batch', 1), names.length, 'up');
    const budget = amountOf(this.amount(rollout.maxFailures, 'maxFailures', 0), names.length, 'down');
    const batches = splitBatches(names, Math.max(1, batchSize));
    if (batchSize > MAX_BATCH_TARGETS)
      throw ApplicationFailure.nonRetryable(`step "${step.id}": a batch of ${batchSize} targets is more than ${MAX_BATCH_TARGETS}: use a smaller batch`, 'InvalidRollout');
    if (batches.length > MAX_BATCHES)
      throw ApplicationFailure.nonRetryable(`step "${step.id}": ${batches.length} batches of ${batchSize} (more than ${MAX_BATCHES}): use a larger batch`, 'InvalidRollout');
    this.order = names;
    batches.forEach((batch, index) => batch.forEach((node) => this.results.set(node, { node, batch: index + 1, status: 'pending', attempts: 0 })));
    this.fleet = {
      total: names.length,
      batchSize,
      batches: batches.length,
      currentBatch: 0,
      failureBudget: budget,
      counts: { ...emptyCounts(), pending: names.length },
      ...(given ? { reused: true } : {}),
    };
    this.progress.fleet = this.fleet;
    context.touch();

    const compensateMode = this.compensateMode();
    const compensate = step.compensate.map((entry) => this.call(entry));
    const main = this.call(step);
    let failures = 0;
    try {
      for (const [index, batch] of batches.entries()) {
        if (index > 0 && rollout.pauseBetweenMs > 0) await sleep(rollout.pauseBetweenMs);
        if (index === 1 && rollout.approveAfterFirstBatch) await this.canary(rollout.approveAfterFirstBatch);
        this.fleet.currentBatch = index + 1;
        batch.forEach((node) => this.record({ ...this.results.get(node)!, status: 'running' }));
        context.touch();
        const results = await this.runBatch(
          {
            batch: index + 1,
            mode: 'run',
            step: main,
            compensate,
            compensateFailed: compensateMode !== 'none',
            targets: batch,
            maxConcurrency: rollout.maxConcurrency ?? batch.length,
            failureBudget: budget - failures,
          },
          String(index + 1),
        );
        results.forEach((result) => this.record(result));
        failures += results.filter((result) => result.status === 'failed').length;
        context.touch();
        if (failures > budget) {
          this.fleet.stopped = `${failures} of ${names.length} targets failed in ${index + 1} of ${batches.length} batches, over the failure budget of ${budget}`;
          break;
        }
      }
    } finally {
      this.skipPending();
    }
    if (this.fleet.stopped && compensateMode === 'done') await this.compensateDone(main, compensate);
    const { counts } = this.fleet;
    const output = { targets: names.length, succeeded: counts.succeeded, failed: counts.failed, skipped: counts.skipped, batches: this.fleet.currentBatch };
    if (this.fleet.stopped) throw ApplicationFailure.create({ message: this.fleet.stopped, type: FAILURE_BUDGET_EXCEEDED, nonRetryable: true, details: [output] });
    return output;
  }

  /** The rest of the rollout waits for a decision; a rejection (or no decision by the deadline) fails the step. */
  private async canary(approval: NonNullable<NonNullable<ActionStep['rollout']>['approveAfterFirstBatch']>): Promise<void> {
    await this.context.awaitApproval({
      id: this.step.id,
      kind: 'approval',
      role: approval.role,
      approvals: 1,
      allowStarter: false,
      ...(approval.deadlineMs ? { deadlineMs: approval.deadlineMs } : {}),
    });
    this.progress.status = 'running';
    this.context.touch();
  }

  private skipPending(): void {
    for (const node of this.order) {
      const result = this.results.get(node)!;
      if (result.status === 'pending' || result.status === 'running') this.record({ ...result, status: 'skipped' });
    }
    this.context.touch();
  }

  /** The rollout stopped: every target it completed is rolled back too (failed ones were as they failed). */
  private async compensateDone(main: FleetActionCall, compensate: FleetActionCall[]): Promise<void> {
    const done = this.order.filter((node) => this.results.get(node)!.status === 'succeeded');
    if (done.length === 0 || compensate.length === 0) return;
    const results = await this.runBatch(
      { batch: 0, mode: 'compensate', step: main, compensate, compensateFailed: true, targets: done, maxConcurrency: this.step.rollout!.maxConcurrency ?? this.fleet!.batchSize, failureBudget: null },
      'undo',
    );
    for (const result of results) this.results.set(result.node, { ...this.results.get(result.node)!, ...(result.compensation ? { compensation: result.compensation } : {}) });
    this.context.touch();
  }
}
