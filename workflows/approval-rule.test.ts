import { describe, expect, it } from 'vitest';
import { approvalBlocker, approvalBlockerMessage, type ApprovalCase } from './approval-rule.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');

/** Carol, an approver, looks at a step of Alice's run that waits for one approver. */
function waitingCase(change: Partial<ApprovalCase> = {}, approval: Partial<NonNullable<ApprovalCase['step']['approval']>> = {}): ApprovalCase {
  return {
    user: 'carol@example.com',
    roles: ['approver'],
    startedBy: 'alice@example.com',
    step: { status: 'waiting', approval: { role: 'approver', allowStarter: false, approvedBy: [], ...approval } },
    decision: 'approve',
    now: NOW,
    ...change,
  };
}

const where = { user: 'carol@example.com', stepId: 'gate', environment: 'production' };

describe('the approval rule', () => {
  it('lets an approver who did not start the run approve or reject a waiting step', () => {
    expect(approvalBlocker(waitingCase())).toBeUndefined();
    expect(approvalBlocker(waitingCase({ decision: 'reject' }))).toBeUndefined();
  });

  it('lets an admin decide a step that needs another role', () => {
    expect(approvalBlocker(waitingCase({ roles: ['admin'] }, { role: 'operator' }))).toBeUndefined();
  });

  it('refuses a step that does not wait, has no approval yet or was decided already', () => {
    const succeeded = waitingCase();
    succeeded.step = { ...succeeded.step, status: 'succeeded' };
    expect(approvalBlocker(succeeded)).toEqual({ reason: 'not-waiting', status: 'succeeded' });
    expect(approvalBlocker({ ...waitingCase(), step: { status: 'waiting' } })).toEqual({ reason: 'not-waiting', status: 'waiting' });
    expect(approvalBlocker({ ...waitingCase(), step: { ...waitingCase().step, decided: true } })).toEqual({ reason: 'not-waiting', status: 'waiting' });
    expect(approvalBlockerMessage({ reason: 'not-waiting', status: 'succeeded' }, where)).toBe('step "gate" is not waiting for approval (it is succeeded)');
  });

  it('refuses a decider without a name', () => {
    expect(approvalBlocker(waitingCase({ user: '  ' }))).toEqual({ reason: 'unnamed' });
    expect(approvalBlockerMessage({ reason: 'unnamed' }, where)).toBe('the approver must be named');
  });

  it('refuses a user without the step’s role, to approve and to reject', () => {
    expect(approvalBlocker(waitingCase({ roles: ['viewer'] }))).toEqual({ reason: 'role', role: 'approver' });
    expect(approvalBlocker(waitingCase({ roles: [], decision: 'reject' }))).toEqual({ reason: 'role', role: 'approver' });
    expect(approvalBlockerMessage({ reason: 'role', role: 'approver' }, where)).toBe(
      'carol@example.com lacks the approver role in production, which step "gate" requires',
    );
  });

  it('refuses a decision once the deadline has passed, at the deadline itself too', () => {
    expect(approvalBlocker(waitingCase({}, { deadline: '2026-01-01T12:00:00.000Z' }))).toEqual({ reason: 'expired', deadline: '2026-01-01T12:00:00.000Z' });
    expect(approvalBlocker(waitingCase({}, { deadline: '2026-01-01T12:00:01.000Z' }))).toBeUndefined();
    expect(approvalBlockerMessage({ reason: 'expired', deadline: '2026-01-01T12:00:00.000Z' }, where)).toBe('the deadline of step "gate" has passed');
  });

  it('keeps the starter from approving their own run (four-eyes) unless the step allows it, but lets them reject', () => {
    const byStarter = { user: 'alice@example.com' };
    expect(approvalBlocker(waitingCase(byStarter))).toEqual({ reason: 'starter', role: 'approver' });
    expect(approvalBlocker(waitingCase(byStarter, { allowStarter: true }))).toBeUndefined();
    expect(approvalBlocker(waitingCase({ ...byStarter, decision: 'reject' }))).toBeUndefined();
    expect(approvalBlockerMessage({ reason: 'starter', role: 'approver' }, { ...where, user: 'alice@example.com' })).toBe(
      'alice@example.com started this run and cannot approve it: another approver must approve (four-eyes)',
    );
  });

  it('refuses a second approval by the same user', () => {
    const given = { approvedBy: [{ user: 'carol@example.com', at: '2026-01-01T11:00:00Z' }] };
    expect(approvalBlocker(waitingCase({}, given))).toEqual({ reason: 'already-approved' });
    expect(approvalBlocker(waitingCase({ user: 'dave@example.com' }, given))).toBeUndefined();
    expect(approvalBlockerMessage({ reason: 'already-approved' }, where)).toBe('carol@example.com has already approved step "gate"');
  });

  it('gives the first reason in the order the interpreter always checked them', () => {
    const everything = waitingCase({ user: 'alice@example.com', roles: ['viewer'] }, { deadline: '2026-01-01T11:00:00Z', approvedBy: [{ user: 'alice@example.com', at: '2026-01-01T10:00:00Z' }] });
    expect(approvalBlocker(everything)?.reason).toBe('role');
    expect(approvalBlocker({ ...everything, roles: ['approver'] })?.reason).toBe('expired');
    expect(approvalBlocker({ ...everything, roles: ['approver'], now: Date.parse('2026-01-01T10:30:00Z') })?.reason).toBe('starter');
  });
});
