// The API's say-so on a transfer, carried through Temporal: anyone who reaches
// Temporal could start a transfer workflow, so the activity that moves credits
// applies only a request signed with the cooperative key (derived from the
// installation's secret; the API and the workers hold it, agents never do).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { JarvisEnv } from '../config/env.js';
import { AUTHORIZATION_WINDOW_MS, canonicalJson, type SignedAuthorization, type Verdict } from '../security/run-authority.js';
import { SecretKey } from '../security/secret-key.js';
import type { TransferRequest } from './ledger.js';

export const COOPERATIVE_AUTHORITY_PURPOSE = 'cooperative-authorization';

export interface SignedTransfer {
  workflowId: string;
  request: TransferRequest;
  authorization: SignedAuthorization;
}

function claimOf(workflowId: string, request: TransferRequest, at: string) {
  return { kind: 'cooperative-transfer', workflowId, request, at };
}

export class TransferAuthority {
  readonly keyId: string;

  constructor(private readonly key: Buffer) {
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 12);
  }

  sign(workflowId: string, request: TransferRequest, at = new Date()): SignedTransfer {
    return { workflowId, request, authorization: { at: at.toISOString(), keyId: this.keyId, signature: this.mac(claimOf(workflowId, request, at.toISOString())) } };
  }

  /** `startedAt`: when Temporal started the workflow, so an old signature cannot start a new transfer. */
  verify(signed: SignedTransfer, workflowId: string, startedAt: Date): Verdict {
    const { authorization } = signed;
    if (!authorization) return { ok: false, reason: 'the transfer was not asked for through Jarvis (it carries no authorization)' };
    if (signed.workflowId !== workflowId) return { ok: false, reason: `the transfer was signed for workflow ${signed.workflowId}, not ${workflowId}` };
    if (authorization.keyId !== this.keyId) return { ok: false, reason: `the transfer was signed with key ${authorization.keyId}, which this worker does not hold` };
    const expected = Buffer.from(this.mac(claimOf(signed.workflowId, signed.request, authorization.at)));
    const given = Buffer.from(String(authorization.signature));
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'the transfer signature does not match what was sent' };
    const signedAt = Date.parse(authorization.at);
    if (!Number.isFinite(signedAt) || Math.abs(startedAt.getTime() - signedAt) > AUTHORIZATION_WINDOW_MS) {
      return { ok: false, reason: `the transfer was signed at ${authorization.at}, too far from its start at ${startedAt.toISOString()}` };
    }
    return { ok: true };
  }

  private mac(claim: object): string {
    return createHmac('sha256', this.key).update(canonicalJson(claim)).digest('base64url');
  }
}

export function transferAuthorityOf(env: Pick<JarvisEnv, 'secretKey' | 'dataDir'>): TransferAuthority {
  return new TransferAuthority(SecretKey.load(env.secretKey, env.dataDir).derive(COOPERATIVE_AUTHORITY_PURPOSE));
}

/** The transfer's workflow id: one per requester and key, so a retried request finds its workflow. */
export function transferWorkflowId(requestedBy: string, idempotencyKey: string): string {
  return `cooperative-transfer.${createHash('sha256').update(`${requestedBy}\n${idempotencyKey}`).digest('hex').slice(0, 40)}`;
}
