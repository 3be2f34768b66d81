// The compiled form of a runbook: what the loader produces and what the
// interpreter workflow receives. Every default is resolved here, so a run is
// reproducible from its workflow input alone. Pure types: shared with the
// workflow sandbox.
import type { SignedAuthorization } from '../security/run-authority.js';
import type { CompiledRollout, TargetSelector } from './fleet.js';

export const ROLES = ['admin', 'operator', 'approver', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export interface StepRetryPolicy {
  maxAttempts: number;
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  nonRetryableErrorTypes: string[];
}

interface StepBase {
  id: string;
  title?: string;
  when?: string;
}

export interface ActionStep extends StepBase {
  kind: 'action';
  action: string;
  with: Record<string, unknown>;
  retry: StepRetryPolicy;
  timeoutMs: number;
  heartbeatTimeoutMs?: number;
  /** Node-local actions: the node (name or template) whose agent's task queue runs the step. */
  node?: string;
  /** With `node` or `targets`: how long the agent has to pick the step up. */
  pickupTimeoutMs?: number;
  /** Fleet steps: the nodes (a selector, or a template rendering to one) the step runs on, each on its own agent. */
  targets?: TargetSelector | string;
  /** With `targets`: batches, failure budget, canary approval, compensation. */
  rollout?: CompiledRollout;
  continueOnError: boolean;
  compensate: ActionStep[];
}

export interface ApprovalStep extends StepBase {
  kind: 'approval';
  role: Role;
  approvals: number;
  deadlineMs?: number;
  allowStarter: boolean;
}

export interface SleepStep extends StepBase {
  kind: 'sleep';
  durationMs: number;
}

export interface ChildRunbookStep extends StepBase {
  kind: 'runbook';
  runbook: string;
  with: Record<string, unknown>;
  continueOnError: boolean;
}

export interface ParallelStep extends StepBase {
  kind: 'parallel';
  steps: Step[];
}

export type Step = ActionStep | ApprovalStep | SleepStep | ChildRunbookStep | ParallelStep;

export interface CompiledRunbook {
  name: string;
  title: string;
  description: string;
  category: string;
  tags: string[];
  environments: string[];
  requiredRole: Role;
  inputs: Record<string, unknown>;
  concurrencyKey?: string;
  steps: Step[];
  /** Content hash of this compiled form: the manifest version a run pins. */
  version: string;
}

/** The workflow input: everything a run needs, so it can always be reproduced. */
export interface RunInput {
  runbook: CompiledRunbook;
  /** Runbooks that `runbook` steps start, resolved when the run was started. */
  children: Record<string, CompiledRunbook>;
  inputs: Record<string, unknown>;
  environment: string;
  startedBy: string;
  rerunOf?: string;
  /** The AI Ops plan this run executes: its outcome goes back into the knowledge base. */
  planId?: string;
  /** A re-run on some targets only: for each fleet step (by id), the node names it runs on instead of resolving its selector. */
  fleetTargets?: Record<string, string[]>;
  /** The API's signature over this start (security/run-authority.ts); a run without a valid one is refused. */
  authorization?: SignedAuthorization;
}
