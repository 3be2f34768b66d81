// A credit transfer of the cooperative as a durable workflow: its id comes
// from the requester and the idempotency key (cooperative/transfer-authority.ts),
// so a retried request finds the same workflow, and its one activity applies
// the transfer in a SQL transaction that the key makes idempotent.
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { CooperativeActivities } from '../cooperative/ledger-activities.js';
import type { TransferResult } from '../cooperative/ledger.js';
import type { SignedTransfer } from '../cooperative/transfer-authority.js';

export const COOPERATIVE_TRANSFER_WORKFLOW = 'cooperativeTransfer';

const ledger = proxyActivities<CooperativeActivities>({
  // A transaction takes milliseconds; a killed worker's attempt is retried after this.
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds', nonRetryableErrorTypes: ['TransferRefused'] },
});

export async function cooperativeTransfer(signed: SignedTransfer): Promise<TransferResult> {
  return ledger.applyCooperativeTransfer({ signed, startedAt: workflowInfo().startTime.toISOString() });
}
