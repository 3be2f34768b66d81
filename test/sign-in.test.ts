// Sign-in hardening, each attack written as a test against the API as
// server.ts builds it: backoff per (account, client address) instead of an
// account lockout, one-time codes that work once, API tokens listed, revoked
// and bounded in lifetime, password changes and resets that end sessions, and
// disabled users whose every credential stops at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../manifest/types.js';
import { totpCode } from '../security/totp.js';
import { startApiForTests } from './api-harness.js';
import { scratchDir, writeManifests } from './harness.js';
import { runCli } from './processes.js';

const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a brand new long password';
const ATTACKER = '203.0.113.66';
const OWNER = '198.51.100.20';
const DAY_MS = 86_400_000;

const user = (email: string, grants: Array<[string, Role]>) => ({ email, password: PASSWORD, grants });

let api: Awaited<ReturnType<typeof startApiForTests>>;

beforeAll(async () => {
  api = await startApiForTests(writeManifests({}), [
    user('root@example.org', [['prod', 'admin']]),
    user('erin@example.org', [['prod', 'admin']]),
    user('dave@example.org', [['dev', 'admin']]),
    user('ada@example.org', [['prod', 'viewer']]),
    user('bea@example.org', [['prod', 'viewer']]),
    user('cy@example.org', [['prod', 'viewer']]),
    user('tom@example.org', [['prod', 'viewer']]),
    user('olga@example.org', [['prod', 'operator']]),
    user('cli@example.org', [['prod', 'viewer']]),
  ]);
}, 120_000);

afterAll(async () => api?.stop());

const signIn = (email: string, password: string, remoteAddress = '127.0.0.1', totp?: string) =>
  api.app.inject({ method: 'POST', url: '/auth/login', remoteAddress, payload: { email, password, ...(totp ? { totp } : {}) } });

async function session(email: string, password = PASSWORD): Promise<{ accessToken: string; refreshToken: string }> {
  const response = await signIn(email, password);
  expect(response.statusCode).toBe(200);
  return response.json();
}

const call = (token: string, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
  api.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });

const me = async (token: string) => (await call(token, 'GET', '/auth/me')).statusCode;
const refresh = async (refreshToken: string) => (await api.app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken } })).statusCode;
const userId = async (email: string) => (await api.prisma.user.findUniqueOrThrow({ where: { email } })).id;

describe('a guesser at one address', () => {
  it('backs off only that address: the account’s owner signs in at once from theirs, the guesser is refused even with the right password', async () => {
    const answers: number[] = [];
    for (let guess = 0; guess < 20; guess += 1) answers.push((await signIn('root@example.org', `wrong guess ${guess}`, ATTACKER)).statusCode);
    // Four free failures, the fifth starts a 30-second backoff, and refused attempts check nothing.
    expect(answers).toEqual([...Array<number>(5).fill(401), ...Array<number>(15).fill(429)]);

    expect((await signIn('root@example.org', PASSWORD, OWNER)).statusCode).toBe(200);

    const refused = await signIn('root@example.org', PASSWORD, ATTACKER);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.json().detail).toMatch(/too many failed sign-ins for this account from your address: try again in \d+ s/);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(30);

    // Every attempt is audited under the address it came from, refused ones included.
    const audited = await api.prisma.auditEntry.findMany({ where: { action: 'POST /auth/login', actorEmail: 'root@example.org' }, orderBy: { id: 'asc' } });
    expect(audited.filter((entry) => entry.ip === ATTACKER).map((entry) => (entry.details as { status: number }).status)).toEqual([...answers, 429]);
    expect(audited.filter((entry) => entry.ip === OWNER)).toMatchObject([{ outcome: 'success' }]);
  });

  it('is refused longer after each failure once backed off, up to 15 minutes, and starts over after a success', async () => {
    const email = 'bea@example.org';
    const address = '203.0.113.70';
    for (let guess = 0; guess < 5; guess += 1) expect((await signIn(email, 'wrong', address)).statusCode).toBe(401);
    const waits: number[] = [];
    for (let round = 0; round < 7; round += 1) {
      // The backoff ran out (as if its time had passed): one more failure backs off twice as long.
      await api.prisma.signInBackoff.update({ where: { email_clientAddress: { email, clientAddress: address } }, data: { blockedUntil: new Date(Date.now() - 1_000) } });
      expect((await signIn(email, 'wrong', address)).statusCode).toBe(401);
      waits.push(Number((await signIn(email, PASSWORD, address)).headers['retry-after']));
    }
    expect(waits.map((seconds) => Math.round(seconds / 30) * 30)).toEqual([60, 120, 240, 480, 900, 900, 900]);

    await api.prisma.signInBackoff.update({ where: { email_clientAddress: { email, clientAddress: address } }, data: { blockedUntil: new Date(Date.now() - 1_000) } });
    expect((await signIn(email, PASSWORD, address)).statusCode).toBe(200);
    for (let guess = 0; guess < 5; guess += 1) expect((await signIn(email, 'wrong', address)).statusCode).toBe(401);
  });

  it('cannot tell a known email from an unknown one by when the backoff starts', async () => {
    const statuses = async (email: string) => {
      const seen: number[] = [];
      for (let guess = 0; guess < 7; guess += 1) seen.push((await signIn(email, 'wrong', '203.0.113.71')).statusCode);
      return seen;
    };
    expect(await statuses('nobody-here@example.org')).toEqual(await statuses('cy@example.org'));
  });

  it('cannot slip parallel guesses past the count', async () => {
    const answers = await Promise.all(Array.from({ length: 12 }, (_, guess) => signIn('cy@example.org', `parallel ${guess}`, '203.0.113.72')));
    expect(answers.filter((answer) => answer.statusCode === 401)).toHaveLength(5);
    expect(answers.filter((answer) => answer.statusCode === 429)).toHaveLength(7);
  });
});

/** Waits for the start of a fresh 30-second step, so codes of the steps around it stay valid for the whole test. */
async function startOfStep(): Promise<number> {
  const into = Date.now() % 30_000;
  if (into > 15_000) await new Promise((resolve) => setTimeout(resolve, 30_000 - into + 200));
  return Date.now();
}

describe('one-time codes', () => {
  it('work once: at sign-in, and to turn TOTP on or off', async () => {
    const { accessToken } = await session('tom@example.org');
    const { secret } = (await call(accessToken, 'POST', '/auth/totp/setup')).json() as { secret: string };
    const now = await startOfStep();
    const [previous, current, next] = [-30_000, 0, 30_000].map((offset) => totpCode(secret, now + offset));

    expect((await call(accessToken, 'POST', '/auth/totp/enable', { code: previous! })).statusCode).toBe(204);
    // The code that turned TOTP on is spent.
    const replayed = await signIn('tom@example.org', PASSWORD, '127.0.0.1', previous);
    expect(replayed.statusCode).toBe(401);
    expect(replayed.json().detail).toBe('the one-time code is wrong or was already used');

    // Two sign-ins racing with the same code: one wins.
    const raced = await Promise.all([signIn('tom@example.org', PASSWORD, '127.0.0.1', current), signIn('tom@example.org', PASSWORD, '127.0.0.1', current)]);
    expect(raced.map((answer) => answer.statusCode).sort()).toEqual([200, 401]);
    expect((await signIn('tom@example.org', PASSWORD, '127.0.0.1', current)).statusCode).toBe(401);

    const disableWith = (code: string) => call(accessToken, 'POST', '/auth/totp/disable', { code });
    expect((await disableWith(current!)).statusCode).toBe(400);
    expect((await disableWith(previous!)).statusCode).toBe(400);
    expect((await disableWith(next!)).statusCode).toBe(204);
    expect((await signIn('tom@example.org', PASSWORD)).statusCode).toBe(200);
  }, 60_000);
});

describe('API tokens', () => {
  it('are listed to their owner, live at most JARVIS_API_TOKEN_MAX_TTL, and stop working as soon as they are revoked', async () => {
    const { accessToken } = await session('ada@example.org');
    const lasting = await call(accessToken, 'POST', '/auth/api-tokens', { name: 'ci' });
    expect(lasting.statusCode).toBe(201);
    // Without an expiry: the longest allowed (90 days by default).
    expect(Date.parse(lasting.json().expiresAt) - Date.now()).toBeGreaterThan(89 * DAY_MS);
    expect(Date.parse(lasting.json().expiresAt) - Date.now()).toBeLessThanOrEqual(90 * DAY_MS);
    const tooLong = await call(accessToken, 'POST', '/auth/api-tokens', { name: 'forever', expiresInDays: 91 });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().detail).toContain('at most 90 days (JARVIS_API_TOKEN_MAX_TTL)');
    const weekly = (await call(accessToken, 'POST', '/auth/api-tokens', { name: 'weekly', expiresInDays: 7 })).json() as { id: string; token: string };

    const listed = await call(accessToken, 'GET', '/auth/api-tokens');
    expect(listed.json()).toMatchObject([
      { id: weekly.id, name: 'weekly', prefix: weekly.token.slice(0, 12), lastUsedAt: null },
      { id: lasting.json().id, name: 'ci' },
    ]);
    expect(listed.body).not.toContain(weekly.token);
    expect(listed.body).not.toContain(lasting.json().token);

    // Someone else neither sees nor revokes them.
    const bea = (await session('bea@example.org')).accessToken;
    expect((await call(bea, 'GET', '/auth/api-tokens')).json()).toEqual([]);
    expect((await call(bea, 'DELETE', `/auth/api-tokens/${weekly.id}`)).statusCode).toBe(404);

    // Used once (so it sits in the principal cache), then revoked: refused on the very next request.
    expect(await me(weekly.token)).toBe(200);
    expect((await call(accessToken, 'DELETE', `/auth/api-tokens/${weekly.id}`)).statusCode).toBe(204);
    expect(await me(weekly.token)).toBe(401);
    expect((await call(accessToken, 'GET', '/auth/api-tokens')).json()).toMatchObject([{ name: 'ci' }]);
    const audited = await api.prisma.auditEntry.findFirstOrThrow({ where: { action: 'DELETE /auth/api-tokens/:id' }, orderBy: { id: 'desc' } });
    expect(audited).toMatchObject({ actorEmail: 'ada@example.org', targetType: 'api-token', targetId: weekly.id, outcome: 'success' });
  });

  it('made before the maximum was set, or without an expiry, still end at creation plus the maximum', async () => {
    const token = (await api.services.auth.createApiToken(await userId('ada@example.org'), 'old')).token;
    expect(await me(token)).toBe(200);
    await api.prisma.apiToken.updateMany({ where: { prefix: token.slice(0, 12) }, data: { createdAt: new Date(Date.now() - 91 * DAY_MS), expiresAt: null } });
    api.services.auth.forget(await userId('ada@example.org'));
    expect(await me(token)).toBe(401);
  });

  it('of a user are listed and revoked by an admin wherever that user holds a role, and by no other admin', async () => {
    const ada = await userId('ada@example.org');
    const { id, token } = await api.services.auth.createApiToken(ada, 'automation');
    expect(await me(token)).toBe(200);
    const erin = (await session('erin@example.org')).accessToken;
    const dave = (await session('dave@example.org')).accessToken;
    expect((await call(dave, 'GET', `/users/${ada}/api-tokens`)).statusCode).toBe(403);
    expect((await call(dave, 'DELETE', `/users/${ada}/api-tokens/${id}`)).statusCode).toBe(403);
    expect((await call(erin, 'GET', `/users/${ada}/api-tokens`)).json()).toEqual(expect.arrayContaining([expect.objectContaining({ id, name: 'automation' })]));
    expect((await call(erin, 'DELETE', `/users/${ada}/api-tokens/${id}`)).statusCode).toBe(204);
    expect(await me(token)).toBe(401);
  });
});

describe('passwords', () => {
  it('are changed by their owner with the current one, ending every other session at once but not this one nor API tokens', async () => {
    const here = await session('olga@example.org');
    const elsewhere = await session('olga@example.org');
    const automation = (await call(here.accessToken, 'POST', '/auth/api-tokens', { name: 'automation' })).json().token as string;
    expect(await me(elsewhere.accessToken)).toBe(200);

    const wrong = await call(here.accessToken, 'POST', '/auth/password', { currentPassword: 'not my password', newPassword: NEW_PASSWORD });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().detail).toBe('the current password is wrong');
    expect((await call(here.accessToken, 'POST', '/auth/password', { currentPassword: PASSWORD, newPassword: 'short' })).statusCode).toBe(400);
    expect((await call(here.accessToken, 'POST', '/auth/password', { currentPassword: PASSWORD, newPassword: NEW_PASSWORD })).statusCode).toBe(204);

    expect(await me(elsewhere.accessToken)).toBe(401);
    expect(await refresh(elsewhere.refreshToken)).toBe(401);
    expect(await me(here.accessToken)).toBe(200);
    expect(await me(automation)).toBe(200);
    expect(await refresh(here.refreshToken)).toBe(200);
    expect((await signIn('olga@example.org', PASSWORD)).statusCode).toBe(401);
    expect((await signIn('olga@example.org', NEW_PASSWORD)).statusCode).toBe(200);

    const audited = await api.prisma.auditEntry.findMany({ where: { action: 'POST /auth/password', actorEmail: 'olga@example.org' }, orderBy: { id: 'asc' } });
    expect(audited.map((entry) => entry.outcome)).toEqual(['failure', 'failure', 'success']);
    expect(JSON.stringify(audited.map((entry) => entry.details))).not.toContain(NEW_PASSWORD);
  });

  it('are reset by an admin wherever the user holds a role, revoking all their sessions and API tokens at once', async () => {
    const target = await userId('cy@example.org');
    await api.prisma.signInBackoff.deleteMany({ where: { email: 'cy@example.org' } });
    const victim = await session('cy@example.org');
    const automation = (await call(victim.accessToken, 'POST', '/auth/api-tokens', { name: 'automation' })).json().token as string;
    expect(await me(automation)).toBe(200);

    const dave = (await session('dave@example.org')).accessToken;
    expect((await call(dave, 'POST', `/users/${target}/password`, { password: NEW_PASSWORD })).statusCode).toBe(403);
    const erin = (await session('erin@example.org')).accessToken;
    expect((await call(erin, 'POST', `/users/${target}/password`, { password: NEW_PASSWORD })).statusCode).toBe(204);

    expect(await me(victim.accessToken)).toBe(401);
    expect(await refresh(victim.refreshToken)).toBe(401);
    expect(await me(automation)).toBe(401);
    expect((await signIn('cy@example.org', PASSWORD)).statusCode).toBe(401);
    expect((await signIn('cy@example.org', NEW_PASSWORD)).statusCode).toBe(200);
    expect(await api.prisma.auditEntry.findFirstOrThrow({ where: { action: 'POST /users/:id/password', outcome: 'success' } })).toMatchObject({ actorEmail: 'erin@example.org', targetId: target });
  });
});

describe('a disabled user', () => {
  it('loses their access tokens, refresh tokens and API tokens at once, and gets them back when enabled', async () => {
    const target = await userId('bea@example.org');
    await api.prisma.signInBackoff.deleteMany({ where: { email: 'bea@example.org' } });
    const bea = await session('bea@example.org');
    const automation = (await call(bea.accessToken, 'POST', '/auth/api-tokens', { name: 'automation' })).json().token as string;
    expect(await me(bea.accessToken)).toBe(200);
    expect(await me(automation)).toBe(200);

    const viewer = (await session('ada@example.org')).accessToken;
    expect((await call(viewer, 'POST', `/users/${target}/disable`)).statusCode).toBe(403);
    const dave = (await session('dave@example.org')).accessToken;
    expect((await call(dave, 'POST', `/users/${target}/disable`)).statusCode).toBe(403);
    const erin = (await session('erin@example.org')).accessToken;
    const disabled = await call(erin, 'POST', `/users/${target}/disable`);
    expect(disabled.json()).toMatchObject({ email: 'bea@example.org', disabled: true });

    expect(await me(bea.accessToken)).toBe(401);
    expect(await me(automation)).toBe(401);
    expect(await refresh(bea.refreshToken)).toBe(401);
    const refused = await signIn('bea@example.org', PASSWORD);
    expect(refused.statusCode).toBe(401);
    expect(refused.json().detail).toBe('email or password is wrong');
    expect((await call(erin, 'POST', `/users/${await userId('erin@example.org')}/disable`)).statusCode).toBe(409);

    expect((await call(erin, 'POST', `/users/${target}/enable`)).json()).toMatchObject({ disabled: false });
    expect(await me(automation)).toBe(200);
    expect((await signIn('bea@example.org', PASSWORD)).statusCode).toBe(200);
    const audited = await api.prisma.auditEntry.findMany({ where: { targetId: target, action: { in: ['POST /users/:id/disable', 'POST /users/:id/enable'] } }, orderBy: { id: 'asc' } });
    expect(audited.map((entry) => [entry.action, entry.actorEmail, entry.outcome])).toEqual([
      ['POST /users/:id/disable', 'ada@example.org', 'denied'],
      ['POST /users/:id/disable', 'dave@example.org', 'denied'],
      ['POST /users/:id/disable', 'erin@example.org', 'success'],
      ['POST /users/:id/enable', 'erin@example.org', 'success'],
    ]);
  });

  it('is disabled, enabled and given a new password by `jarvis users` straight against the database', async () => {
    const env = { JARVIS_DATA_DIR: scratchDir(), DATABASE_URL: api.databaseUrl };
    const automation = (await api.services.auth.createApiToken(await userId('cli@example.org'), 'automation')).token;
    expect((await runCli(['users', 'disable', 'CLI@example.org'], env)).stdout).toContain('cli@example.org is disabled');
    expect((await signIn('cli@example.org', PASSWORD)).statusCode).toBe(401);
    expect((await runCli(['users', 'enable', 'cli@example.org'], env)).stdout).toContain('cli@example.org is enabled');
    expect((await signIn('cli@example.org', PASSWORD)).statusCode).toBe(200);

    expect((await runCli(['users', 'reset-password', 'cli@example.org'], env, 'short\n')).code).toBe(2);
    const reset = await runCli(['users', 'reset-password', 'cli@example.org'], env, `${NEW_PASSWORD}\n`);
    expect(reset.stdout).toContain('their sessions and API tokens are revoked');
    expect((await signIn('cli@example.org', NEW_PASSWORD)).statusCode).toBe(200);
    expect((await api.prisma.apiToken.findFirstOrThrow({ where: { prefix: automation.slice(0, 12) } })).revokedAt).not.toBeNull();
    expect((await runCli(['users', 'disable', 'nobody@example.org'], env)).code).toBe(3);
  }, 60_000);
});
