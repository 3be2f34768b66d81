// The cooperative's parts as the API process builds them: the service its
// routes call, and the activities its control worker runs (the earnings job,
// the proposals' tally).
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { mayStartRunbook, startRefusal, type Principal } from '../api/rbac.js';
import { JarvisProblem } from '../manifest/errors.js';
import { idempotencyToken } from '../runs/run-ids.js';
import type { RunService } from '../runs/run-service.js';
import { CooperativeService } from './cooperative-service.js';
import { CooperativeSettings } from './cooperative-settings.js';
import { createEarningsActivities } from './earnings-activities.js';
import { Earnings } from './earnings.js';
import { createGovernanceActivities } from './governance-activities.js';
import { Governance } from './governance.js';
import { Ledger } from './ledger.js';
import { Reputation } from './reputation.js';
import { TransferAuthority } from './transfer-authority.js';
import { TransferService } from './transfer-service.js';

export interface CooperativeDependencies {
  pool: pg.Pool;
  temporal: Client;
  taskQueue: string;
  /** The cooperative-authorization key (security/secret-key.ts, COOPERATIVE_AUTHORITY_PURPOSE). */
  authorityKey: Buffer;
  runs: RunService;
  principalOfUser(userId: string): Promise<Principal | undefined>;
}

export function createCooperative({ pool, temporal, taskQueue, authorityKey, runs, principalOfUser }: CooperativeDependencies) {
  const ledger = new Ledger(pool);
  const settings = new CooperativeSettings(pool);
  const earnings = new Earnings(pool, ledger, settings, temporal);
  const reputation = new Reputation(pool);
  // An accepted runbook effect starts as its proposer, if they may still start it, once per proposal.
  const governance = new Governance(pool, settings, reputation, async (effect, proposer, proposalId) => {
    const principal = await principalOfUser(proposer.id);
    const runbook = runs.compileRunbook(effect.runbook).runbook;
    if (!principal || !mayStartRunbook(principal, runbook, effect.environment)) throw new JarvisProblem(startRefusal(runbook, effect.environment), 'forbidden');
    const started = await runs.startRun({
      runbook: effect.runbook,
      inputs: effect.inputs,
      environment: effect.environment,
      startedBy: proposer.email,
      idempotency: idempotencyToken(proposer.id, `proposal:${proposalId}`),
    });
    return { runId: started.id };
  });
  return {
    service: new CooperativeService(pool, ledger, new TransferService(temporal, taskQueue, new TransferAuthority(authorityKey)), { settings, earnings, governance, reputation, temporal, taskQueue }),
    activities: { ...createEarningsActivities(earnings), ...createGovernanceActivities(governance) },
  };
}
