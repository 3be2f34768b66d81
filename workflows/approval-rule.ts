// Who may decide a waiting approval step, and when. One rule for the
// interpreter, which enforces it, and for the API and the web, which tell a
// user beforehand why they may not decide. Pure and deterministic: it runs
// inside the workflow sandbox and in the browser.
import type { ApprovalProgress, StepStatus } from './messages.js';

export interface ApprovalCase {
  /** Who wants to decide. */
  user: string;
  /** The roles the user holds in the run's environment. */
  roles: readonly string[];
  /** Who started the run: four-eyes keeps them from approving it. */
  startedBy: string | undefined;
  step: {
    status: StepStatus;
    /** Present once the step waits for people. */
    approval?: Pick<ApprovalProgress, 'role' | 'allowStarter' | 'approvedBy' | 'deadline'> | undefined;
    /** Decided already, which the workflow knows before the step's status changes. */
    decided?: boolean;
  };
  decision: 'approve' | 'reject';
  /** Milliseconds since the epoch: the workflow's clock inside the workflow. */
  now: number;
}

/** Why the user may not take the decision, with what its message needs. */
export type ApprovalBlocker =
  | { reason: 'not-waiting'; status: StepStatus }
  | { reason: 'unnamed' }
  | { reason: 'role'; role: string }
  | { reason: 'expired'; deadline: string }
  | { reason: 'starter'; role: string }
  | { reason: 'already-approved' };

export type ApprovalBlockerReason = ApprovalBlocker['reason'];

/** Undefined when the user may take the decision now; otherwise the first reason they may not. */
export function approvalBlocker({ user, roles, startedBy, step, decision, now }: ApprovalCase): ApprovalBlocker | undefined {
  const approval = step.approval;
  if (!approval || step.decided || step.status !== 'waiting') return { reason: 'not-waiting', status: step.status };
  if (!user?.trim()) return { reason: 'unnamed' };
  if (!roles.includes(approval.role) && !roles.includes('admin')) return { reason: 'role', role: approval.role };
  if (approval.deadline && Date.parse(approval.deadline) <= now) return { reason: 'expired', deadline: approval.deadline };
  if (decision === 'reject') return undefined;
  if (user === startedBy && !approval.allowStarter) return { reason: 'starter', role: approval.role };
  if (approval.approvedBy.some((given) => given.user === user)) return { reason: 'already-approved' };
  return undefined;
}

/**
 * The interpreter's English message for a blocker. Update validators fail with
 * it, and clients and tests match on it: keep each one as it is.
 */
export function approvalBlockerMessage(blocker: ApprovalBlocker, { user, stepId, environment }: { user: string; stepId: string; environment: string }): string {
  switch (blocker.reason) {
    case 'not-waiting':
      return `step "${stepId}" is not waiting for approval (it is ${blocker.status})`;
    case 'unnamed':
      return 'the approver must be named';
    case 'role':
      return `${user} lacks the ${blocker.role} role in ${environment}, which step "${stepId}" requires`;
    case 'expired':
      return `the deadline of step "${stepId}" has passed`;
    case 'starter':
      return `${user} started this run and cannot approve it: another ${blocker.role} must approve (four-eyes)`;
    case 'already-approved':
      return `${user} has already approved step "${stepId}"`;
  }
}
