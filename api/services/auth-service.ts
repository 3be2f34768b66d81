// Signing in, sessions (rotating refresh tokens and the access tokens bound to
// them), one-time codes and API tokens; and who a bearer credential is.
import { randomUUID } from 'node:crypto';
import type { Database } from '../../db/database.js';
import { JarvisProblem } from '../../manifest/errors.js';
import type { CredentialsCipher } from '../../security/credentials-cipher.js';
import { DUMMY_PASSWORD_HASH, verifyPassword } from '../../security/passwords.js';
import { matchTotp, newTotpSecret, totpUri } from '../../security/totp.js';
import { hashOpaqueToken, newOpaqueToken, type AccessTokens } from '../../security/tokens.js';
import type { Principal } from '../rbac.js';
import type { SignInBackoff } from './sign-in-backoff.js';

export class AuthFailure extends Error {
  override name = 'AuthFailure';
}

/** The password was right and the account has TOTP: the sign-in needs the current code too. */
export const TOTP_REQUIRED = 'a one-time code from your authenticator app is required';

export interface IssuedTokens {
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
}

export interface AuthSettings {
  refreshTtlMs: number;
  /** JARVIS_API_TOKEN_MAX_TTL: no API token outlives it, including those made before it was lowered. */
  apiTokenMaxTtlMs: number;
}

export interface ApiTokenView {
  id: string;
  name: string;
  prefix: string;
  createdAt: Date;
  expiresAt: Date;
  lastUsedAt: Date | null;
}

const DAY_MS = 86_400_000;
const PRINCIPAL_CACHE_MS = 5_000;
const PRINCIPAL_CACHE_ENTRIES = 10_000;

export class AuthService {
  private readonly principals = new Map<string, { principal: Principal; until: number }>();
  /** Bumped by `forget`: a lookup that started before it must not cache what it found. */
  private epoch = 0;

  constructor(
    private readonly db: Database,
    private readonly accessTokens: AccessTokens,
    private readonly cipher: CredentialsCipher,
    private readonly backoff: SignInBackoff,
    private readonly settings: AuthSettings,
  ) {}

  /**
   * The same answer for an unknown email, a disabled account and a wrong
   * password, so none can be probed. Every attempt counts against the
   * (email, client address) pair until it succeeds (see SignInBackoff).
   */
  async logIn(email: string, password: string, totp: string | undefined, clientAddress: string): Promise<{ userId: string; tokens: IssuedTokens }> {
    const normalized = email.trim().toLowerCase();
    await this.backoff.attempt(normalized, clientAddress);
    const user = await this.db.user.findUnique({ where: { email: normalized } });
    const valid = await verifyPassword(user?.passwordHash ?? DUMMY_PASSWORD_HASH, password);
    if (!user || user.disabled || !valid) throw new AuthFailure('email or password is wrong');
    if (user.totpEnabled && user.totpSecret) {
      if (!totp) throw new AuthFailure(TOTP_REQUIRED);
      if (!(await this.consumeTotp(user.id, user.totpSecret, totp))) throw new AuthFailure('the one-time code is wrong or was already used');
    }
    await this.backoff.succeeded(normalized, clientAddress);
    return { userId: user.id, tokens: await this.issue(user.id, user.email, randomUUID()) };
  }

  /** For changing one's own password: the current one, checked under the same backoff as signing in. */
  async checkPassword(userId: string, password: string, clientAddress: string): Promise<void> {
    const user = await this.db.user.findUniqueOrThrow({ where: { id: userId } });
    await this.backoff.attempt(user.email, clientAddress);
    if (!(await verifyPassword(user.passwordHash, password))) throw new JarvisProblem('the current password is wrong', 'invalid');
    await this.backoff.succeeded(user.email, clientAddress);
  }

  /**
   * Accepts a code once: its step must be newer than the last one accepted for
   * the user, claimed in one conditional update so two requests cannot both use it.
   */
  private async consumeTotp(userId: string, sealedSecret: string, code: string): Promise<boolean> {
    const step = matchTotp(this.cipher.open(sealedSecret, `totp:${userId}`), code);
    if (step === undefined) return false;
    const claimed = await this.db.user.updateMany({ where: { id: userId, OR: [{ totpLastStep: null }, { totpLastStep: { lt: step } }] }, data: { totpLastStep: step } });
    return claimed.count === 1;
  }

  /** Starts TOTP enrolment: a new secret, stored sealed, active only once a code from it is confirmed. */
  async setUpTotp(userId: string, email: string): Promise<{ secret: string; uri: string }> {
    // A stolen access token must not be enough to replace an active second factor.
    if ((await this.db.user.findUniqueOrThrow({ where: { id: userId } })).totpEnabled) {
      throw new JarvisProblem('TOTP is already on: turn it off with a current code first (POST /auth/totp/disable)', 'conflict');
    }
    const secret = newTotpSecret();
    await this.db.user.update({ where: { id: userId }, data: { totpSecret: this.cipher.seal(secret, `totp:${userId}`).ciphertext, totpEnabled: false } });
    return { secret, uri: totpUri(secret, email) };
  }

  /** Turns TOTP on or off with a current code; codes are guessed under the sign-in backoff, and each works once. */
  async confirmTotp(userId: string, code: string, enabled: boolean, clientAddress: string): Promise<void> {
    const user = await this.db.user.findUniqueOrThrow({ where: { id: userId } });
    if (!user.totpSecret) throw new JarvisProblem('set up TOTP first (POST /auth/totp/setup)', 'conflict');
    await this.backoff.attempt(user.email, clientAddress);
    if (!(await this.consumeTotp(userId, user.totpSecret, code))) throw new JarvisProblem('the one-time code does not match or was already used', 'invalid');
    await this.backoff.succeeded(user.email, clientAddress);
    await this.db.user.update({ where: { id: userId }, data: enabled ? { totpEnabled: true } : { totpEnabled: false, totpSecret: null } });
  }

  /** A session is a refresh-token family; its access tokens carry its id and die with it. */
  private async issue(userId: string, email: string, familyId: string): Promise<IssuedTokens> {
    const access = await this.accessTokens.issue({ userId, email, sessionId: familyId });
    const refresh = newOpaqueToken('jvr');
    const refreshTokenExpiresAt = new Date(Date.now() + this.settings.refreshTtlMs);
    await this.db.refreshToken.create({ data: { familyId, userId, tokenHash: refresh.hash, expiresAt: refreshTokenExpiresAt } });
    return { accessToken: access.token, accessTokenExpiresAt: access.expiresAt, refreshToken: refresh.token, refreshTokenExpiresAt };
  }

  /** Rotates a refresh token. Presenting one that was already rotated revokes its whole family. */
  async refresh(refreshToken: string): Promise<{ userId: string; tokens: IssuedTokens }> {
    const stored = await this.db.refreshToken.findUnique({ where: { tokenHash: hashOpaqueToken(refreshToken) }, include: { user: true } });
    if (!stored || stored.revokedAt) throw new AuthFailure('the session has ended: sign in again');
    if (stored.rotatedAt) {
      await this.revokeFamily(stored.userId, stored.familyId);
      throw new AuthFailure('this refresh token was already used: every session of its family is revoked, sign in again');
    }
    if (stored.expiresAt <= new Date() || stored.user.disabled) throw new AuthFailure('the session has expired: sign in again');
    const rotated = await this.db.refreshToken.updateMany({ where: { id: stored.id, rotatedAt: null }, data: { rotatedAt: new Date() } });
    // Two concurrent refreshes with the same token: the loser is a reuse.
    if (rotated.count === 0) {
      await this.revokeFamily(stored.userId, stored.familyId);
      throw new AuthFailure('this refresh token was already used: every session of its family is revoked, sign in again');
    }
    return { userId: stored.userId, tokens: await this.issue(stored.userId, stored.user.email, stored.familyId) };
  }

  async logOut(refreshToken: string): Promise<void> {
    const stored = await this.db.refreshToken.findUnique({ where: { tokenHash: hashOpaqueToken(refreshToken) } });
    if (stored) await this.revokeFamily(stored.userId, stored.familyId);
  }

  private async revokeFamily(userId: string, familyId: string): Promise<void> {
    await this.db.refreshToken.updateMany({ where: { familyId, revokedAt: null }, data: { revokedAt: new Date() } });
    this.forget(userId);
  }

  /** Creates an API token. Without `expiresInDays` it lives JARVIS_API_TOKEN_MAX_TTL; asking for longer is refused. */
  async createApiToken(userId: string, name: string, expiresInDays?: number): Promise<{ id: string; token: string; prefix: string; expiresAt: Date }> {
    const lifetimeMs = expiresInDays === undefined ? this.settings.apiTokenMaxTtlMs : expiresInDays * DAY_MS;
    if (lifetimeMs > this.settings.apiTokenMaxTtlMs) {
      throw new JarvisProblem(
        `an API token may live at most ${Math.floor(this.settings.apiTokenMaxTtlMs / DAY_MS)} days (JARVIS_API_TOKEN_MAX_TTL); ask for fewer, or leave expiresInDays out for the longest`,
        'invalid',
      );
    }
    const { token, hash } = newOpaqueToken('jvt');
    const prefix = token.slice(0, 12);
    const expiresAt = new Date(Date.now() + lifetimeMs);
    const created = await this.db.apiToken.create({ data: { userId, name, prefix, tokenHash: hash, expiresAt } });
    return { id: created.id, token, prefix, expiresAt };
  }

  /** The user's API tokens that still work, newest first (never the token itself: only its prefix). */
  async listApiTokens(userId: string): Promise<ApiTokenView[]> {
    const now = Date.now();
    const rows = await this.db.apiToken.findMany({
      where: { userId, revokedAt: null, createdAt: { gt: new Date(now - this.settings.apiTokenMaxTtlMs) }, OR: [{ expiresAt: null }, { expiresAt: { gt: new Date(now) } }] },
      orderBy: { createdAt: 'desc' },
    });
    return rows.map((row) => ({ id: row.id, name: row.name, prefix: row.prefix, createdAt: row.createdAt, expiresAt: this.apiTokenExpiry(row), lastUsedAt: row.lastUsedAt }));
  }

  /** Revokes one of the user's API tokens; it stops working at once. */
  async revokeApiToken(userId: string, tokenId: string): Promise<void> {
    const revoked = await this.db.apiToken.updateMany({ where: { id: tokenId, userId, revokedAt: null }, data: { revokedAt: new Date() } });
    if (revoked.count === 0) throw new JarvisProblem(`no API token ${tokenId} of that user`, 'not-found');
    this.forget(userId);
  }

  /** The earlier of its own expiry and its creation plus the current maximum lifetime. */
  private apiTokenExpiry(token: { createdAt: Date; expiresAt: Date | null }): Date {
    const capped = token.createdAt.getTime() + this.settings.apiTokenMaxTtlMs;
    return new Date(Math.min(token.expiresAt?.getTime() ?? capped, capped));
  }

  /**
   * Drops what is cached about a user, so a revoked session or token, a
   * changed password or a disabled account takes effect on this API process
   * at once (other replicas within PRINCIPAL_CACHE_MS).
   */
  forget(userId: string): void {
    this.epoch += 1;
    for (const [key, entry] of this.principals) if (entry.principal.id === userId) this.principals.delete(key);
  }

  /**
   * Resolves a bearer credential to the acting user and their grants. Answers
   * are kept for a few seconds, so a changed grant takes effect within
   * PRINCIPAL_CACHE_MS while every request no longer needs the database.
   */
  async authenticate(bearer: string): Promise<Principal | undefined> {
    const key = hashOpaqueToken(bearer);
    const cached = this.principals.get(key);
    if (cached && cached.until > Date.now()) return cached.principal;
    const epoch = this.epoch;
    const principal = await this.lookUpPrincipal(bearer);
    if (this.principals.size >= PRINCIPAL_CACHE_ENTRIES) this.principals.delete(this.principals.keys().next().value!);
    if (principal && epoch === this.epoch) this.principals.set(key, { principal, until: Date.now() + PRINCIPAL_CACHE_MS });
    return principal;
  }

  private async lookUpPrincipal(bearer: string): Promise<Principal | undefined> {
    let userId: string | undefined;
    let sessionId: string | undefined;
    if (bearer.startsWith('jvt_')) {
      const apiToken = await this.db.apiToken.findUnique({ where: { tokenHash: hashOpaqueToken(bearer) } });
      if (!apiToken || apiToken.revokedAt || this.apiTokenExpiry(apiToken).getTime() <= Date.now()) return undefined;
      userId = apiToken.userId;
      await this.db.apiToken.update({ where: { id: apiToken.id }, data: { lastUsedAt: new Date() } });
    } else {
      const claims = await this.accessTokens.verify(bearer);
      if (!claims) return undefined;
      // Signed out, revoked by a password change or reset, or its refresh token reused: the access token ends with it.
      const live = await this.db.refreshToken.findFirst({ where: { familyId: claims.sessionId, userId: claims.userId, revokedAt: null }, select: { id: true } });
      if (!live) return undefined;
      userId = claims.userId;
      sessionId = claims.sessionId;
    }
    const principal = await this.principalOfUser(userId);
    return principal && sessionId ? { ...principal, sessionId } : principal;
  }

  /** A user as they stand now (grants read fresh, never cached): for what acts on their behalf later, such as a schedule's fire. */
  async principalOfUser(userId: string): Promise<Principal | undefined> {
    const user = await this.db.user.findUnique({ where: { id: userId }, include: { grants: { include: { environment: true } } } });
    if (!user || user.disabled) return undefined;
    return { id: user.id, email: user.email, grants: user.grants.map((grant) => ({ environment: grant.environment.name, role: grant.role })) };
  }
}
