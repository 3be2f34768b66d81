// Signing in, token rotation and API tokens.
import { randomUUID } from 'node:crypto';
import type { Database } from '../../db/database.js';
import { JarvisProblem } from '../../runs/errors.js';
import type { CredentialsCipher } from '../../security/credentials-cipher.js';
import { DUMMY_PASSWORD_HASH, verifyPassword } from '../../security/passwords.js';
import { newTotpSecret, totpUri, verifyTotp } from '../../security/totp.js';
import { hashOpaqueToken, newOpaqueToken, type AccessTokens } from '../../security/tokens.js';
import type { Principal } from '../rbac.js';

export const MAX_FAILED_LOGINS = 5;
export const LOCKOUT_MS = 15 * 60_000;

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

const PRINCIPAL_CACHE_MS = 5_000;
const PRINCIPAL_CACHE_ENTRIES = 10_000;

export class AuthService {
  private readonly principals = new Map<string, { principal: Principal; until: number }>();

  constructor(
    private readonly db: Database,
    private readonly accessTokens: AccessTokens,
    private readonly refreshTtlMs: number,
    private readonly cipher: CredentialsCipher,
  ) {}

  /** The same answer for an unknown email and a wrong password, so neither can be probed. */
  async logIn(email: string, password: string, totp?: string): Promise<{ userId: string; tokens: IssuedTokens }> {
    const user = await this.db.user.findUnique({ where: { email: email.trim().toLowerCase() } });
    const valid = await verifyPassword(user?.passwordHash ?? DUMMY_PASSWORD_HASH, password);
    if (!user || user.disabled) throw new AuthFailure('email or password is wrong');
    if (user.lockedUntil && user.lockedUntil > new Date()) {
      throw new AuthFailure('too many failed sign-ins: the account is locked for a few minutes');
    }
    if (valid && user.totpEnabled && user.totpSecret) {
      if (!totp) throw new AuthFailure(TOTP_REQUIRED);
      if (!verifyTotp(this.cipher.open(user.totpSecret, `totp:${user.id}`), totp)) return this.failLogin(user.id, user.failedLogins, 'the one-time code is wrong');
    }
    if (!valid) return this.failLogin(user.id, user.failedLogins, 'email or password is wrong');
    if (user.failedLogins > 0 || user.lockedUntil) await this.db.user.update({ where: { id: user.id }, data: { failedLogins: 0, lockedUntil: null } });
    return { userId: user.id, tokens: await this.issue(user.id, user.email, randomUUID()) };
  }

  /** Counts a failed sign-in; the fifth in a row locks the account for a while. */
  private async failLogin(userId: string, failedBefore: number, message: string): Promise<never> {
    const failedLogins = failedBefore + 1;
    await this.db.user.update({
      where: { id: userId },
      data: failedLogins >= MAX_FAILED_LOGINS ? { failedLogins: 0, lockedUntil: new Date(Date.now() + LOCKOUT_MS) } : { failedLogins },
    });
    throw new AuthFailure(message);
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

  async confirmTotp(userId: string, code: string, enabled: boolean): Promise<void> {
    const user = await this.db.user.findUniqueOrThrow({ where: { id: userId } });
    if (!user.totpSecret) throw new JarvisProblem('set up TOTP first (POST /auth/totp/setup)', 'conflict');
    if (!verifyTotp(this.cipher.open(user.totpSecret, `totp:${userId}`), code)) throw new JarvisProblem('the one-time code does not match', 'invalid');
    await this.db.user.update({ where: { id: userId }, data: enabled ? { totpEnabled: true } : { totpEnabled: false, totpSecret: null } });
  }

  private async issue(userId: string, email: string, familyId: string): Promise<IssuedTokens> {
    const access = await this.accessTokens.issue({ userId, email });
    const refresh = newOpaqueToken('jvr');
    const refreshTokenExpiresAt = new Date(Date.now() + this.refreshTtlMs);
    await this.db.refreshToken.create({ data: { familyId, userId, tokenHash: refresh.hash, expiresAt: refreshTokenExpiresAt } });
    return { accessToken: access.token, accessTokenExpiresAt: access.expiresAt, refreshToken: refresh.token, refreshTokenExpiresAt };
  }

  /** Rotates a refresh token. Presenting one that was already rotated revokes its whole family. */
  async refresh(refreshToken: string): Promise<{ userId: string; tokens: IssuedTokens }> {
    const stored = await this.db.refreshToken.findUnique({ where: { tokenHash: hashOpaqueToken(refreshToken) }, include: { user: true } });
    if (!stored || stored.revokedAt) throw new AuthFailure('the session has ended: sign in again');
    if (stored.rotatedAt) {
      await this.revokeFamily(stored.familyId);
      throw new AuthFailure('this refresh token was already used: every session of its family is revoked, sign in again');
    }
    if (stored.expiresAt <= new Date() || stored.user.disabled) throw new AuthFailure('the session has expired: sign in again');
    const rotated = await this.db.refreshToken.updateMany({ where: { id: stored.id, rotatedAt: null }, data: { rotatedAt: new Date() } });
    // Two concurrent refreshes with the same token: the loser is a reuse.
    if (rotated.count === 0) {
      await this.revokeFamily(stored.familyId);
      throw new AuthFailure('this refresh token was already used: every session of its family is revoked, sign in again');
    }
    return { userId: stored.userId, tokens: await this.issue(stored.userId, stored.user.email, stored.familyId) };
  }

  async logOut(refreshToken: string): Promise<void> {
    const stored = await this.db.refreshToken.findUnique({ where: { tokenHash: hashOpaqueToken(refreshToken) } });
    if (stored) await this.revokeFamily(stored.familyId);
  }

  private async revokeFamily(familyId: string): Promise<void> {
    await this.db.refreshToken.updateMany({ where: { familyId, revokedAt: null }, data: { revokedAt: new Date() } });
  }

  async createApiToken(userId: string, name: string, expiresAt?: Date): Promise<{ id: string; token: string; prefix: string }> {
    const { token, hash } = newOpaqueToken('jvt');
    const prefix = token.slice(0, 12);
    const created = await this.db.apiToken.create({ data: { userId, name, prefix, tokenHash: hash, ...(expiresAt ? { expiresAt } : {}) } });
    return { id: created.id, token, prefix };
  }

  /**
   * Resolves a bearer credential to the acting user and their grants. Answers
   * are kept for a few seconds, so a changed grant or a disabled user takes
   * effect within PRINCIPAL_CACHE_MS while every request no longer needs the database.
   */
  async authenticate(bearer: string): Promise<Principal | undefined> {
    const key = hashOpaqueToken(bearer);
    const cached = this.principals.get(key);
    if (cached && cached.until > Date.now()) return cached.principal;
    const principal = await this.lookUpPrincipal(bearer);
    if (this.principals.size >= PRINCIPAL_CACHE_ENTRIES) this.principals.delete(this.principals.keys().next().value!);
    if (principal) this.principals.set(key, { principal, until: Date.now() + PRINCIPAL_CACHE_MS });
    return principal;
  }

  private async lookUpPrincipal(bearer: string): Promise<Principal | undefined> {
    let userId: string | undefined;
    if (bearer.startsWith('jvt_')) {
      const apiToken = await this.db.apiToken.findUnique({ where: { tokenHash: hashOpaqueToken(bearer) } });
      if (!apiToken || apiToken.revokedAt || (apiToken.expiresAt && apiToken.expiresAt <= new Date())) return undefined;
      userId = apiToken.userId;
      await this.db.apiToken.update({ where: { id: apiToken.id }, data: { lastUsedAt: new Date() } });
    } else {
      userId = (await this.accessTokens.verify(bearer))?.userId;
    }
    if (!userId) return undefined;
    const user = await this.db.user.findUnique({ where: { id: userId }, include: { grants: { include: { environment: true } } } });
    if (!user || user.disabled) return undefined;
    return { id: user.id, email: user.email, grants: user.grants.map((grant) => ({ environment: grant.environment.name, role: grant.role })) };
  }
}
