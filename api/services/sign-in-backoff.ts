// Failed sign-ins slow down the (email, client address) pair that makes them,
// never the account: a guesser at one address is refused for a growing while,
// and the account's owner, at their own address, still signs in at once. An
// unknown email backs off exactly like a known one, so nothing can be probed.
import type { Database } from '../../db/database.js';

/** Failures in a row a pair may make freely (typos); the next one starts the backoff. */
export const FREE_FAILURES = 4;
export const FIRST_BACKOFF_MS = 30_000;
export const MAX_BACKOFF_MS = 15 * 60_000;
/** A pair that has not failed for this long starts again from nothing. */
export const FORGET_AFTER_MS = 24 * 3_600_000;

/** The pair is backed off: refused without checking anything (429, Retry-After). */
export class SignInRefused extends Error {
  override name = 'SignInRefused';
  constructor(readonly retryAfterSeconds: number) {
    super(`too many failed sign-ins for this account from your address: try again in ${retryAfterSeconds} s`);
  }
}

export class SignInBackoff {
  constructor(private readonly db: Database) {}

  /**
   * Counts the attempt as a failure before anything is checked, so guesses
   * sent in parallel cannot slip past the count, or refuses it while the pair
   * is backed off. The caller forgets the pair on success (`succeeded`).
   */
  async attempt(email: string, clientAddress: string): Promise<void> {
    const forgetSeconds = FORGET_AFTER_MS / 1000;
    const counted = await this.db.$queryRaw<Array<{ failures: number }>>`
      INSERT INTO "sign_in_backoffs" AS pair ("email", "client_address", "failures", "last_failure_at", "blocked_until")
      VALUES (${email}::text, ${clientAddress}::text, 1, now(), NULL)
      ON CONFLICT ("email", "client_address") DO UPDATE SET
        "failures" = CASE WHEN pair."last_failure_at" < now() - make_interval(secs => ${forgetSeconds}::float8) THEN 1 ELSE pair."failures" + 1 END,
        "last_failure_at" = now(),
        "blocked_until" = CASE
          WHEN pair."last_failure_at" >= now() - make_interval(secs => ${forgetSeconds}::float8) AND pair."failures" + 1 > ${FREE_FAILURES}::int
          THEN now() + make_interval(secs => LEAST(${FIRST_BACKOFF_MS / 1000}::float8 * power(2, pair."failures" - ${FREE_FAILURES}::int), ${MAX_BACKOFF_MS / 1000}::float8))
        END
      WHERE pair."blocked_until" IS NULL OR pair."blocked_until" <= now()
      RETURNING "failures"`;
    await this.db.signInBackoff.deleteMany({ where: { lastFailureAt: { lt: new Date(Date.now() - FORGET_AFTER_MS) }, OR: [{ blockedUntil: null }, { blockedUntil: { lt: new Date() } }] } });
    if (counted.length > 0) return;
    const blocked = await this.db.signInBackoff.findUnique({ where: { email_clientAddress: { email, clientAddress } } });
    throw new SignInRefused(Math.max(1, Math.ceil(((blocked?.blockedUntil?.getTime() ?? Date.now()) - Date.now()) / 1000)));
  }

  async succeeded(email: string, clientAddress: string): Promise<void> {
    await this.db.signInBackoff.deleteMany({ where: { email, clientAddress } });
  }
}
