import { createHash, randomBytes } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';

export interface AccessClaims {
  userId: string;
  email: string;
  /** The refresh-token family (the sign-in) the token was issued to: ending that session ends its access tokens too. */
  sessionId: string;
}

const ISSUER = 'jarvis';
const AUDIENCE = 'jarvis-api';

export class AccessTokens {
  constructor(
    private readonly key: Uint8Array,
    private readonly ttlMs: number,
  ) {}

  async issue(claims: AccessClaims): Promise<{ token: string; expiresAt: Date }> {
    const expiresAt = new Date(Date.now() + this.ttlMs);
    const token = await new SignJWT({ email: claims.email, sid: claims.sessionId, typ: 'access' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(claims.userId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(this.key);
    return { token, expiresAt };
  }

  /** Only HS256 with our key: `alg: none`, other algorithms, tampered and expired tokens are refused. */
  async verify(token: string): Promise<AccessClaims | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE });
      if (payload.typ !== 'access' || typeof payload.sub !== 'string' || typeof payload.email !== 'string' || typeof payload.sid !== 'string') return undefined;
      return { userId: payload.sub, email: payload.email, sessionId: payload.sid };
    } catch (error) {
      if (error instanceof errors.JOSEError) return undefined;
      throw error;
    }
  }
}

/** An opaque random token and the hash that is stored instead of it. */
export function newOpaqueToken(prefix: string): { token: string; hash: string } {
  const token = `${prefix}_${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashOpaqueToken(token) };
}

export function hashOpaqueToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Short-lived tickets that open one run's log socket (browsers cannot set headers on WebSockets). */
export class LogTickets {
  constructor(
    private readonly key: Uint8Array,
    private readonly ttlMs = 60_000,
  ) {}

  async issue(userId: string, runId: string): Promise<{ ticket: string; expiresAt: Date }> {
    const expiresAt = new Date(Date.now() + this.ttlMs);
    const ticket = await new SignJWT({ typ: 'log-ticket', run: runId })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(userId)
      .setIssuer(ISSUER)
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(this.key);
    return { ticket, expiresAt };
  }

  async verify(ticket: string, runId: string): Promise<string | undefined> {
    try {
      const { payload } = await jwtVerify(ticket, this.key, { algorithms: ['HS256'], issuer: ISSUER });
      return payload.typ === 'log-ticket' && payload.run === runId && typeof payload.sub === 'string' ? payload.sub : undefined;
    } catch (error) {
      if (error instanceof errors.JOSEError) return undefined;
      throw error;
    }
  }
}
