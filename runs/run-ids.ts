// How a start names its workflow. Temporal refuses a second workflow with the
// same id, so the id is what makes keyed and idempotent starts happen once.
import { createHash, randomBytes } from 'node:crypto';

/** A run's id names its environment: its payloads are encrypted with that environment's key (temporal/payload-keys.ts). */
export function newRunId(runbook: string, environment: string): string {
  return `${runbook}@${environment}.${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/**
 * With a concurrency key, the workflow id is the key: Temporal itself refuses
 * a second run on it. The environment is part of it, so a run id never
 * names runs of two environments.
 */
export function keyedRunId(runbook: string, environment: string, key: string): string {
  return `${runbook}@${environment}:${key.replace(/[^A-Za-z0-9._:-]+/g, '_')}`;
}

/** Whether an id is a concurrency key's (reused by each new run on the key once the last one closed). */
export function isKeyedRunId(id: string): boolean {
  return /^[^@]+@[^.:]+:/.test(id);
}

/** The memo field that holds a start's idempotency token, compared when Temporal reports the id already taken. */
export const IDEMPOTENCY_MEMO = 'jarvisIdempotency';

/**
 * A caller's Idempotency-Key as a stable token: the same user and key give the
 * same token in every API process, before and after a crash, and two users'
 * keys never meet. Hex, so it fits a run id's suffix.
 */
export function idempotencyToken(userId: string, key: string): string {
  return createHash('sha256').update(`${userId}\n${key}`).digest('hex').slice(0, 32);
}

/** An idempotent start's id: the token is the suffix, so a retry names the same workflow. */
export function idempotentRunId(runbook: string, environment: string, token: string): string {
  return `${runbook}@${environment}.${token}`;
}
