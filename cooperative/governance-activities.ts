// The proposal workflow's activity, on the API process's control worker: it
// tallies under the proposal's row lock and applies an accepted effect (a
// runbook effect through the API's own run-start path, signed as any start).
import { ApplicationFailure } from '@temporalio/common';
import { JarvisProblem } from '../manifest/errors.js';
import type { Governance, Proposal } from './governance.js';

export interface GovernanceActivities {
  closeCooperativeProposal(input: { proposalId: string }): Promise<Proposal>;
}

export function createGovernanceActivities(governance: Governance): GovernanceActivities {
  return {
    async closeCooperativeProposal({ proposalId }) {
      try {
        return await governance.close(proposalId);
      } catch (error) {
        if (error instanceof JarvisProblem && error.kind === 'not-found') throw ApplicationFailure.create({ message: error.message, type: 'NoProposal', nonRetryable: true });
        throw error;
      }
    },
  };
}
