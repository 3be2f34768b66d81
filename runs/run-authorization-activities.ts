// The local activities through which a run has its start and its decisions
// checked against the API's signature (security/run-authority.ts). The key
// lives in the worker, never in the workflow's history; a refusal is written
// to the audit log, since Jarvis's API never saw the request.
import type { AuditRecord } from '../api/services/audit-service.js';
import type { RunInput } from '../manifest/types.js';
import type { DecisionClaim, RunAuthority, SignedAuthorization, Verdict } from '../security/run-authority.js';

export interface RefusalAudit {
  record(entry: AuditRecord): Promise<void>;
}

export interface RunAuthorizationActivities {
  verifyRunStart(request: { workflowId: string; startedAt: string; input: RunInput }): Promise<Verdict>;
  verifyDecision(request: { claim: DecisionClaim; authorization?: SignedAuthorization; receivedAt: string; environment: string }): Promise<Verdict>;
}

export function createRunAuthorizationActivities(authority: RunAuthority, audit?: RefusalAudit): RunAuthorizationActivities {
  const refuse = async (verdict: Verdict, entry: Omit<AuditRecord, 'outcome'>): Promise<Verdict> => {
    if (!verdict.ok) await audit?.record({ ...entry, outcome: 'denied', details: { ...entry.details, reason: verdict.reason } });
    return verdict;
  };
  return {
    async verifyRunStart({ workflowId, startedAt, input }) {
      return refuse(authority.verifyStart(workflowId, input, new Date(startedAt)), {
        actorEmail: input.startedBy,
        action: 'run.start.refused',
        targetType: 'run',
        targetId: workflowId,
        details: { runbook: input.runbook?.name, environment: input.environment, via: 'temporal' },
      });
    },
    async verifyDecision({ claim, authorization, receivedAt, environment }) {
      return refuse(authority.verifyDecision(claim, authorization, new Date(receivedAt)), {
        actorEmail: claim.user,
        action: `run.${claim.decision}.refused`,
        targetType: 'run',
        targetId: claim.workflowId,
        details: { step: claim.stepId, roles: claim.roles, environment, via: 'temporal' },
      });
    },
  };
}
