// The API's say-so, carried through Temporal. Authorization is decided by the
// API alone; Temporal, workers and agents are reachable by more than Jarvis
// (its port, a compromised node), so a run start and an approval decision
// carry an HMAC made with a key that the API and the workers hold and agents
// never get. The workflow has it checked (by an activity) before its first
// step runs and before a decision counts: a start or a decision sent to
// Temporal directly ends the run refused.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { JarvisEnv } from '../config/env.js';
import type { RunInput } from '../manifest/types.js';
import { SecretKey } from './secret-key.js';

export const RUN_AUTHORITY_PURPOSE = 'run-authorization';
/** How far apart the API's clock (signing) and Temporal's (starting, deciding) may be. */
export const AUTHORIZATION_WINDOW_MS = 5 * 60_000;

export interface SignedAuthorization {
  /** When the API signed (ISO 8601). */
  at: string;
  /** Which key signed: lets keys rotate. */
  keyId: string;
  /** base64url HMAC-SHA256. */
  signature: string;
}

/** What an approval or a rejection says, as the API signs it. */
export interface DecisionClaim {
  workflowId: string;
  stepId: string;
  decision: 'approve' | 'reject';
  user: string;
  roles: readonly string[];
  /** The comment of an approval, the reason of a rejection. */
  note?: string;
}

/** JSON with object keys sorted at every depth: the same value always signs the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item === undefined ? null : item)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, entry]) => entry !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, entry]) => `${JSON.stringify(key)}:${canonicalJson(entry)}`).join(',')}}`;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The fields of a run start that the signature covers (the manifest by its hash). */
function startClaim(workflowId: string, input: RunInput, at: string) {
  return {
    kind: 'run-start',
    workflowId,
    manifest: sha256(canonicalJson({ runbook: input.runbook, children: input.children })),
    inputs: sha256(canonicalJson(input.inputs)),
    environment: input.environment,
    startedBy: input.startedBy,
    rerunOf: input.rerunOf ?? null,
    planId: input.planId ?? null,
    // Only re-runs on some targets carry it: every other start signs exactly what it always did.
    ...(input.fleetTargets ? { fleetTargets: sha256(canonicalJson(input.fleetTargets)) } : {}),
    at,
  };
}

function decisionClaim(claim: DecisionClaim, at: string) {
  return { kind: 'decision', ...claim, roles: [...claim.roles].sort(), note: claim.note ?? null, at };
}

export type Verdict = { ok: true } | { ok: false; reason: string };

export class RunAuthority {
  readonly keyId: string;

  constructor(private readonly key: Buffer) {
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 12);
  }

  signStart(workflowId: string, input: RunInput, at = new Date()): SignedAuthorization {
    return this.sign(startClaim(workflowId, input, at.toISOString()), at);
  }

  signDecision(claim: DecisionClaim, at = new Date()): SignedAuthorization {
    return this.sign(decisionClaim(claim, at.toISOString()), at);
  }

  /** `startedAt`: when Temporal started the execution, so an old signature cannot start a new run. */
  verifyStart(workflowId: string, input: RunInput, startedAt: Date): Verdict {
    const authorization = input.authorization;
    if (!authorization) return { ok: false, reason: 'the run was not started through Jarvis (it carries no authorization)' };
    return this.verify(startClaim(workflowId, input, authorization.at), authorization, startedAt);
  }

  verifyDecision(claim: DecisionClaim, authorization: SignedAuthorization | undefined, receivedAt: Date): Verdict {
    if (!authorization) return { ok: false, reason: 'the decision was not made through Jarvis (it carries no authorization)' };
    return this.verify(decisionClaim(claim, authorization.at), authorization, receivedAt);
  }

  private sign(claim: object, at: Date): SignedAuthorization {
    return { at: at.toISOString(), keyId: this.keyId, signature: this.mac(claim) };
  }

  private mac(claim: object): string {
    return createHmac('sha256', this.key).update(canonicalJson(claim)).digest('base64url');
  }

  private verify(claim: object, authorization: SignedAuthorization, happenedAt: Date): Verdict {
    if (authorization.keyId !== this.keyId) return { ok: false, reason: `the authorization was signed with key ${authorization.keyId}, which this worker does not hold` };
    const expected = Buffer.from(this.mac(claim));
    const given = Buffer.from(String(authorization.signature));
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'the authorization signature does not match what was sent' };
    const signedAt = Date.parse(authorization.at);
    if (!Number.isFinite(signedAt) || Math.abs(happenedAt.getTime() - signedAt) > AUTHORIZATION_WINDOW_MS) {
      return { ok: false, reason: `the authorization was signed at ${authorization.at}, too far from ${happenedAt.toISOString()}` };
    }
    return { ok: true };
  }
}

/** The installation's run authority: the API signs with it, workers verify with it. */
export function runAuthorityOf(env: Pick<JarvisEnv, 'secretKey' | 'dataDir'>): RunAuthority {
  return new RunAuthority(SecretKey.load(env.secretKey, env.dataDir).derive(RUN_AUTHORITY_PURPOSE));
}
