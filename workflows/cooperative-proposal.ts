// A governance proposal's life: a durable timer until its voting window
// closes, then the tally and, when accepted, its effect
// (cooperative/governance.ts). Started when the proposal is made; the
// database's clock decides the close, so a timer that fires a little early
// is retried until the deadline has passed there too.
import { proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { GovernanceActivities } from '../cooperative/governance-activities.js';
import type { Proposal } from '../cooperative/governance.js';
import { controlTaskQueue } from './scheduled-run.js';

export const COOPERATIVE_PROPOSAL_WORKFLOW = 'cooperativeProposal';

export interface CooperativeProposalInput {
  proposalId: string;
  closesAt: string;
}

export async function cooperativeProposal(input: CooperativeProposalInput): Promise<Proposal> {
  const control = proxyActivities<GovernanceActivities>({
    taskQueue: controlTaskQueue(workflowInfo().taskQueue),
    startToCloseTimeout: '5 minutes',
    // The API may be restarting: the tally waits for it.
    scheduleToCloseTimeout: '7 days',
    retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: ['NoProposal'] },
  });
  const wait = Date.parse(input.closesAt) - Date.now();
  if (wait > 0) await sleep(wait);
  return control.closeCooperativeProposal({ proposalId: input.proposalId });
}
