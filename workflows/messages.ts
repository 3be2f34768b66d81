// Messages of the interpreter workflow, defined once and used by the workflow
// and by every client (CLI, API).
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { TargetResult, TargetStatus } from '../manifest/fleet.js';
import type { Role } from '../manifest/types.js';
import type { SignedAuthorization } from '../security/run-authority.js';

export type StepStatus = 'pending' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'skipped' | 'rejected' | 'cancelled';
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'rejected' | 'cancelled';

export interface ApprovalDecision {
  user: string;
  at: string;
  comment?: string;
}

export interface ApprovalProgress {
  role: Role;
  required: number;
  allowStarter: boolean;
  deadline?: string;
  approvedBy: ApprovalDecision[];
  rejectedBy?: ApprovalDecision & { reason: string };
}

export interface StepProgress {
  id: string;
  kind: 'action' | 'approval' | 'sleep' | 'runbook' | 'parallel';
  title?: string;
  action?: string;
  /** The parallel group this step belongs to. */
  group?: string;
  status: StepStatus;
  attempts: number;
  startedAt?: string;
  endedAt?: string;
  outputSummary?: string;
  error?: string;
  approval?: ApprovalProgress;
  childRunId?: string;
  /** Fleet steps: counts only; the targets themselves are paged by fleetTargetsQuery. */
  fleet?: FleetProgress;
}

export interface FleetProgress {
  total: number;
  batchSize: number;
  batches: number;
  /** The batch running (1-based); 0 before the first. */
  currentBatch: number;
  /** Failures the rollout tolerates; one more stops it. */
  failureBudget: number;
  counts: Record<TargetStatus, number>;
  /** Why the rollout stopped before its last batch. */
  stopped?: string;
  /** Whether the targets were given by the run (a re-run on some targets) rather than resolved from the selector. */
  reused?: boolean;
}

export interface FleetTargetsRequest {
  /** The fleet step; the run's first one when absent. */
  stepId?: string;
  status?: TargetStatus;
  /** The `next` of the previous page. */
  cursor?: string;
  limit?: number;
}

export interface FleetTargetsPage {
  stepId: string;
  targets: TargetResult[];
  next?: string;
}

export interface CompensationProgress {
  forStep: string;
  id: string;
  action: string;
  status: 'running' | 'succeeded' | 'failed';
  attempts: number;
  startedAt: string;
  endedAt?: string;
  error?: string;
}

export interface RunProgress {
  runbook: string;
  version: string;
  environment: string;
  startedBy: string;
  rerunOf?: string;
  status: RunStatus;
  startedAt: string;
  endedAt?: string;
  error?: string;
  steps: StepProgress[];
  compensations: CompensationProgress[];
}

export interface RunResult {
  status: 'succeeded';
  outputs: Record<string, unknown>;
  progress: RunProgress;
}

export interface ApproveStepRequest {
  stepId: string;
  user: string;
  /** The roles the acting user holds in the run's environment, resolved by the caller. */
  roles: Role[];
  comment?: string;
  /** The API's signature over this decision; without a valid one the decision ends the run refused. */
  authorization?: SignedAuthorization;
}

export interface RejectStepRequest {
  stepId: string;
  user: string;
  roles: Role[];
  reason: string;
  authorization?: SignedAuthorization;
}

export interface ApprovalAnswer {
  stepId: string;
  decision: 'approved' | 'rejected' | 'pending';
  approvals: number;
  required: number;
}

export const progressQuery = defineQuery<RunProgress>('progress');
/** A page of a fleet step's targets with their results: the progress query carries only their counts. */
export const fleetTargetsQuery = defineQuery<FleetTargetsPage | null, [FleetTargetsRequest]>('fleetTargets');
export const FLEET_TARGETS_MAX_PAGE = 1_000;
export const approveStepUpdate = defineUpdate<ApprovalAnswer, [ApproveStepRequest]>('approveStep');
export const rejectStepUpdate = defineUpdate<ApprovalAnswer, [RejectStepRequest]>('rejectStep');

/** Failure types the interpreter raises itself. */
export const APPROVAL_REJECTED = 'ApprovalRejected';
/** A start or a decision that did not come from Jarvis's API (no valid signature). */
export const RUN_REFUSED = 'RunRefused';
export const UNKNOWN_ACTION = 'UnknownAction';
/** A fleet rollout stopped because more targets failed than its budget allows. */
export const FAILURE_BUDGET_EXCEEDED = 'FailureBudgetExceeded';
