// What the web tells a user who may not decide an approval, for each reason
// the approval rule gives (workflows/approval-rule.ts).
import type { ApprovalBlockerReason } from '../../../workflows/approval-rule.js';
import type { MessageKey, Translate } from '../i18n/index.js';

const BLOCKER_TEXT: Record<ApprovalBlockerReason, MessageKey> = {
  'not-waiting': 'approval.notWaiting',
  unnamed: 'approval.unnamed',
  role: 'approval.needsRole',
  expired: 'approval.expired',
  starter: 'approval.starter',
  'already-approved': 'approval.already',
};

export function approvalBlockerText(reason: ApprovalBlockerReason, t: Translate, { role, environment }: { role: string; environment: string }): string {
  return t(BLOCKER_TEXT[reason], { role, environment });
}
