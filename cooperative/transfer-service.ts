// Starts credit transfers as workflows and answers their outcome. The caller
// (the API, the earnings job) has decided the transfer is allowed; this signs
// it, so the worker applies only what came this way.
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import { COOPERATIVE_TRANSFER_WORKFLOW } from '../workflows/cooperative-transfer.js';
import { checkTransferRequest, LedgerRefusal, type TransferRequest, type TransferResult } from './ledger.js';
import { transferWorkflowId, type TransferAuthority } from './transfer-authority.js';

export type TransferOrder = Omit<TransferRequest, 'idempotencyKey'> & { idempotencyKey?: string };

export class TransferService {
  constructor(
    private readonly temporal: Client,
    private readonly taskQueue: string,
    private readonly authority: TransferAuthority,
  ) {}

  /** Applies a transfer once per (requester, key): sending it again answers the first outcome (`replayed`). */
  async transfer(order: TransferOrder): Promise<TransferResult & { workflowId: string }> {
    const request: TransferRequest = { ...order, idempotencyKey: order.idempotencyKey ?? randomUUID() };
    checkTransferRequest(request);
    const workflowId = transferWorkflowId(request.requestedBy, request.idempotencyKey);
    let replayed = false;
    try {
      await this.temporal.workflow.start(COOPERATIVE_TRANSFER_WORKFLOW, {
        workflowId,
        taskQueue: this.taskQueue,
        args: [this.authority.sign(workflowId, request)],
        // A key's workflow runs once while Temporal retains it; after that the ledger's unique key answers.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      replayed = true;
    }
    try {
      const result = await this.temporal.workflow.getHandle<(signed: unknown) => Promise<TransferResult>>(workflowId).result();
      return { ...result, replayed: result.replayed || replayed, workflowId };
    } catch (error) {
      const cause = error instanceof WorkflowFailedError ? (error.cause?.cause ?? error.cause) : undefined;
      if (cause instanceof ApplicationFailure && cause.type === 'TransferRefused') throw new LedgerRefusal(cause.message);
      throw error;
    }
  }
}
