// The activity a transfer workflow runs on the main worker: it checks the
// API's signature on the request, then applies the transfer in one SQL
// transaction (cooperative/ledger.ts). Retrying it is harmless: the
// idempotency key makes a transfer whose commit was not reported (a killed
// worker) answer what it did instead of applying again.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { AuditRecord } from '../api/services/audit-service.js';
import { LedgerRefusal, type Ledger, type TransferResult } from './ledger.js';
import type { SignedTransfer, TransferAuthority } from './transfer-authority.js';

export interface CooperativeActivityDependencies {
  ledger: Ledger;
  authority: TransferAuthority;
  audit?: { record(entry: AuditRecord): Promise<void> };
}

export interface CooperativeActivities {
  applyCooperativeTransfer(input: { signed: SignedTransfer; startedAt: string }): Promise<TransferResult>;
}

export function createCooperativeActivities(dependencies?: CooperativeActivityDependencies): CooperativeActivities | Record<string, never> {
  // Without a database this worker keeps no ledger: transfers wait for a worker that does.
  if (!dependencies) return {};
  const { ledger, authority, audit } = dependencies;
  return {
    async applyCooperativeTransfer({ signed, startedAt }) {
      const workflowId = Context.current().info.workflowExecution?.workflowId ?? '';
      const verdict = authority.verify(signed, workflowId, new Date(startedAt));
      if (!verdict.ok) {
        await audit?.record({
          action: 'cooperative.transfer.refused',
          targetType: 'cooperative-transfer',
          targetId: workflowId,
          outcome: 'denied',
          details: { reason: verdict.reason, via: 'temporal' },
        });
        throw ApplicationFailure.create({ message: verdict.reason, type: 'TransferRefused', nonRetryable: true });
      }
      try {
        return await ledger.applyTransfer(signed.request, workflowId);
      } catch (error) {
        if (error instanceof LedgerRefusal) throw ApplicationFailure.create({ message: error.message, type: 'TransferRefused', nonRetryable: true });
        throw error;
      }
    },
  };
}
