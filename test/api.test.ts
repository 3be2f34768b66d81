import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOTP_REQUIRED } from '../api/services/auth-service.js';
import { totpCode } from '../security/totp.js';
import { startApiForTests } from './api-harness.js';
import { writeManifests } from './harness.js';

const PASSWORD = 'correct horse battery staple';
const users = [
  { email: 'alice@example.org', password: PASSWORD, grants: [['prod', 'operator'], ['prod', 'approver']] as Array<[string, 'operator' | 'approver' | 'viewer' | 'admin']> },
  { email: 'bob@example.org', password: PASSWORD, grants: [['prod', 'approver']] as Array<[string, 'approver']> },
  { email: 'carol@example.org', password: PASSWORD, grants: [['prod', 'viewer']] as Array<[string, 'viewer']> },
  { email: 'dave@example.org', password: PASSWORD, grants: [['dev', 'operator']] as Array<[string, 'operator']> },
  { email: 'erin@example.org', password: PASSWORD, grants: [['prod', 'admin']] as Array<[string, 'admin']> },
];

const gated = `
name: gated
title: Waits for an approval
environments: [dev, prod]
inputs: { type: object, properties: { note: { type: string } }, required: [note] }
steps:
  - id: gate
    approval: { role: approver }
  - id: done
    action: core.noop
    with: { message: "\${{ inputs.note }}" }
`;

let api: Awaited<ReturnType<typeof startApiForTests>>;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  api = await startApiForTests(writeManifests({ gated }), users);
  for (const user of users) tokens[user.email.split('@')[0]!] = await api.logIn(user.email, user.password);
}, 120_000);

afterAll(async () => api?.stop());

const as = (name: string) => ({ authorization: `Bearer ${tokens[name]}` });

async function waitForWaiting(id: string) {
  for (let tries = 0; tries < 100; tries += 1) {
    const run = (await api.app.inject({ method: 'GET', url: `/runs/${id}`, headers: as('alice') })).json();
    if (run.progress?.steps?.[0]?.status === 'waiting') return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the approval step never started waiting');
}

describe('the API', () => {
  it('answers 401 without a token on every route but login, refresh, logout, health, readiness and the docs', async () => {
    const protectedRoutes = api.app.routeList.filter((route) => !route.public);
    expect(protectedRoutes.length).toBeGreaterThan(8);
    for (const route of protectedRoutes) {
      const url = route.url.replace(':name', 'gated').replace(':id', 'some-run').replace(':step', 'gate');
      const response = await api.app.inject({ method: route.method as 'GET', url, payload: route.method === 'GET' ? undefined : {} });
      expect({ route: `${route.method} ${route.url}`, status: response.statusCode }).toEqual({ route: `${route.method} ${route.url}`, status: 401 });
      expect(response.headers['content-type']).toContain('application/problem+json');
    }
    const publicUrls = api.app.routeList.filter((route) => route.public).map((route) => route.url);
    expect(publicUrls).toEqual(expect.arrayContaining(['/auth/login', '/healthz', '/readyz']));
    expect((await api.app.inject({ method: 'GET', url: '/readyz' })).json()).toMatchObject({ status: 'ready' });
  });

  it('does not say whether the email or the password was wrong', async () => {
    const wrongPassword = await api.app.inject({ method: 'POST', url: '/auth/login', payload: { email: 'carol@example.org', password: 'nope' } });
    const unknownEmail = await api.app.inject({ method: 'POST', url: '/auth/login', payload: { email: 'nobody@example.org', password: 'nope' } });
    expect(wrongPassword.statusCode).toBe(401);
    expect(wrongPassword.json().detail).toBe('email or password is wrong');
    expect(unknownEmail.json().detail).toBe(wrongPassword.json().detail);
  });

  it('rotates refresh tokens, revokes the family on reuse, and ends sessions on logout', async () => {
    const login = (await api.app.inject({ method: 'POST', url: '/auth/login', payload: { email: 'carol@example.org', password: PASSWORD } })).json();
    const first = await api.app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: login.refreshToken } });
    expect(first.statusCode).toBe(200);
    const rotated = first.json().refreshToken as string;
    const reuse = await api.app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: login.refreshToken } });
    expect(reuse.statusCode).toBe(401);
    expect(reuse.json().detail).toContain('already used');
    // The whole family is gone, including the token that was handed out by the rotation.
    expect((await api.app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: rotated } })).statusCode).toBe(401);

    const second = (await api.app.inject({ method: 'POST', url: '/auth/login', payload: { email: 'carol@example.org', password: PASSWORD } })).json();
    expect((await api.app.inject({ method: 'POST', url: '/auth/logout', payload: { refreshToken: second.refreshToken } })).statusCode).toBe(204);
    expect((await api.app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: second.refreshToken } })).statusCode).toBe(401);
  });

  it('asks for a one-time code once TOTP is on, and refuses a wrong one', async () => {
    const carol = as('carol');
    const setup = await api.app.inject({ method: 'POST', url: '/auth/totp/setup', headers: carol });
    expect(setup.statusCode).toBe(201);
    const { secret, uri } = setup.json();
    expect(uri).toMatch(/^otpauth:\/\/totp\/Jarvis%3Acarol%40example.org\?secret=/);
    expect((await api.app.inject({ method: 'POST', url: '/auth/totp/enable', headers: carol, payload: { code: '000000' } })).statusCode).toBe(400);
    // Each code works once (test/sign-in.test.ts): turning TOTP on spends the previous step's code, signing in the current one, turning it off the next one.
    expect((await api.app.inject({ method: 'POST', url: '/auth/totp/enable', headers: carol, payload: { code: totpCode(secret, Date.now() - 30_000) } })).statusCode).toBe(204);
    expect((await api.app.inject({ method: 'POST', url: '/auth/totp/setup', headers: carol })).statusCode).toBe(409);

    const login = (payload: object) => api.app.inject({ method: 'POST', url: '/auth/login', payload: { email: 'carol@example.org', password: PASSWORD, ...payload } });
    expect((await login({})).json().detail).toBe(TOTP_REQUIRED);
    expect((await login({ totp: totpCode(secret, Date.now() - 300_000) })).statusCode).toBe(401);
    expect((await login({ totp: totpCode(secret) })).statusCode).toBe(200);
    const stored = await api.prisma.user.findUniqueOrThrow({ where: { email: 'carol@example.org' } });
    expect(stored.totpSecret).not.toContain(secret);

    expect((await api.app.inject({ method: 'POST', url: '/auth/totp/disable', headers: carol, payload: { code: totpCode(secret, Date.now() + 30_000) } })).statusCode).toBe(204);
    expect((await login({})).statusCode).toBe(200);
  });

  it('refuses tampered, expired and unsigned access tokens', async () => {
    const [header, payload, signature] = tokens.carol!.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url')}.${signature}`;
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    const expired = await new SignJWT({ ...claims, exp: Math.floor(Date.now() / 1000) - 60 }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('not-our-key-at-all-not-our-key!!'));
    for (const token of [tampered, unsigned, expired, 'garbage']) {
      const response = await api.app.inject({ method: 'GET', url: '/auth/me', headers: { authorization: `Bearer ${token}` } });
      expect(response.statusCode).toBe(401);
    }
    expect((await api.app.inject({ method: 'GET', url: '/auth/me', headers: as('carol') })).json()).toMatchObject({ email: 'carol@example.org', grants: [{ environment: 'prod', role: 'viewer' }] });
  });

  it('lets an operator start a run only where they hold the role, and validates inputs first', async () => {
    const inDev = await api.app.inject({ method: 'POST', url: '/runbooks/gated/execute', headers: as('dave'), payload: { environment: 'prod', inputs: { note: 'x' } } });
    expect(inDev.statusCode).toBe(403);
    const viewer = await api.app.inject({ method: 'POST', url: '/runbooks/gated/execute', headers: as('carol'), payload: { environment: 'prod', inputs: { note: 'x' } } });
    expect(viewer.statusCode).toBe(403);
    const badInputs = await api.app.inject({ method: 'POST', url: '/runbooks/gated/execute', headers: as('alice'), payload: { environment: 'prod', inputs: { note: 5 } } });
    expect(badInputs.statusCode).toBe(400);
    expect(badInputs.json().errors).toEqual([{ path: 'inputs.note', message: 'must be string' }]);
  });

  it('refuses the starter’s own approval and accepts another approver’s; the run then completes', async () => {
    const started = await api.app.inject({
      method: 'POST',
      url: '/runbooks/gated/execute',
      headers: { ...as('alice'), 'idempotency-key': 'deploy-42' },
      payload: { environment: 'prod', inputs: { note: 'ship it' } },
    });
    expect(started.statusCode).toBe(201);
    const { id } = started.json();
    const retried = await api.app.inject({
      method: 'POST',
      url: '/runbooks/gated/execute',
      headers: { ...as('alice'), 'idempotency-key': 'deploy-42' },
      payload: { environment: 'prod', inputs: { note: 'ship it' } },
    });
    expect(retried.json().id).toBe(id);
    await waitForWaiting(id);

    const own = await api.app.inject({ method: 'POST', url: `/runs/${id}/steps/gate/approve`, headers: as('alice'), payload: {} });
    expect(own.statusCode).toBe(403);
    expect(own.json().detail).toContain('alice@example.org started this run and cannot approve it');
    const viewer = await api.app.inject({ method: 'POST', url: `/runs/${id}/steps/gate/approve`, headers: as('carol'), payload: {} });
    expect(viewer.statusCode).toBe(403);
    const approved = await api.app.inject({ method: 'POST', url: `/runs/${id}/steps/gate/approve`, headers: as('bob'), payload: { comment: 'go' } });
    expect(approved.json()).toMatchObject({ decision: 'approved' });
    await api.temporal.workflow.getHandle(id).result();

    const shown = (await api.app.inject({ method: 'GET', url: `/runs/${id}`, headers: as('carol') })).json();
    expect(shown.progress).toMatchObject({ status: 'succeeded', startedBy: 'alice@example.org' });
    expect((await api.app.inject({ method: 'GET', url: `/runs/${id}`, headers: as('dave') })).statusCode).toBe(403);
    const listForDave = await api.app.inject({ method: 'GET', url: '/runs', headers: as('dave') });
    expect(listForDave.statusCode, listForDave.body).toBe(200);
    const listedForDave = listForDave.json();
    expect(listedForDave.map((run: { id: string }) => run.id)).not.toContain(id);
    const listedForCarol = (await api.app.inject({ method: 'GET', url: '/runs?runbook=gated', headers: as('carol') })).json();
    expect(listedForCarol.map((run: { id: string }) => run.id)).toContain(id);

    // Temporal's web UI decodes the encrypted input through the codec endpoint, for admins only.
    const history = JSON.parse(historyToJSON(await api.temporal.workflow.getHandle(id).fetchHistory()));
    const input = history.events[0].workflowExecutionStartedEventAttributes.input.payloads[0];
    expect(Buffer.from(input.data, 'base64').toString('latin1')).not.toContain('ship it');
    expect((await api.app.inject({ method: 'POST', url: '/codec/decode', headers: as('carol'), payload: { payloads: [input] } })).statusCode).toBe(403);
    const decoded = await api.app.inject({ method: 'POST', url: '/codec/decode', headers: as('erin'), payload: { payloads: [input] } });
    expect(Buffer.from(decoded.json().payloads[0].data, 'base64').toString()).toContain('"note":"ship it"');
  });

  it('writes an audit entry for every state-changing route, whatever the outcome', async () => {
    const changing = api.app.routeList.filter((route) => !['GET', 'HEAD', 'OPTIONS'].includes(route.method));
    for (const route of changing) {
      const before = await api.prisma.auditEntry.count();
      const url = route.url.replace(':name', 'gated').replace(':id', 'no-such-run').replace(':step', 'gate');
      await api.app.inject({ method: route.method as 'POST', url, headers: as('carol'), payload: {} });
      const entries = await api.prisma.auditEntry.findMany({ orderBy: { id: 'desc' }, take: 1 });
      expect({ route: `${route.method} ${route.url}`, written: (await api.prisma.auditEntry.count()) - before }).toEqual({ route: `${route.method} ${route.url}`, written: 1 });
      expect(entries[0]).toMatchObject({ action: `${route.method} ${route.url}`, ip: expect.any(String) });
    }
  });

  it('believes X-Forwarded-For only from its own proxies', async () => {
    const signIn = (remoteAddress: string) =>
      api.app.inject({ method: 'POST', url: '/auth/login', remoteAddress, headers: { 'x-forwarded-for': '198.51.100.23' }, payload: { email: 'nobody@example.org', password: 'wrong password 1' } });
    const lastIp = async () => (await api.prisma.auditEntry.findMany({ orderBy: { id: 'desc' }, take: 1 }))[0]?.ip;
    await signIn('127.0.0.1');
    expect(await lastIp()).toBe('198.51.100.23');
    await signIn('203.0.113.9');
    expect(await lastIp()).toBe('203.0.113.9');
  });

  it('keeps connection secrets encrypted at rest and never returns them', async () => {
    const secret = 'postgres://backup:s3cr3t-Pa55@db.internal/app';
    const denied = await api.app.inject({ method: 'POST', url: '/connections', headers: as('dave'), payload: { environment: 'prod', name: 'db', type: 'postgres', secret } });
    expect(denied.statusCode).toBe(403);
    const created = await api.app.inject({
      method: 'POST',
      url: '/connections',
      headers: as('erin'),
      payload: { environment: 'prod', name: 'db', type: 'postgres', config: { host: 'db.internal' }, secret },
    });
    expect(created.statusCode).toBe(201);
    expect(created.body).not.toContain('s3cr3t');
    expect(created.json()).toMatchObject({ name: 'db', environment: 'prod', hasSecret: true, config: { host: 'db.internal' } });
    const rows = await api.prisma.$queryRawUnsafe<Array<{ secret_ciphertext: string }>>('SELECT secret_ciphertext FROM connections');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.secret_ciphertext).not.toContain('s3cr3t');
    expect(rows[0]!.secret_ciphertext).toMatch(/^v1:[0-9a-f]{12}:/);
    expect(await api.services.connections.revealSecret(created.json().id)).toBe(secret);

    const listed = await api.app.inject({ method: 'GET', url: '/connections', headers: as('carol') });
    expect(listed.json()).toHaveLength(1);
    expect(listed.body).not.toContain('s3cr3t');
    expect((await api.app.inject({ method: 'GET', url: '/connections', headers: as('dave') })).json()).toEqual([]);
    const replaced = await api.app.inject({ method: 'PATCH', url: `/connections/${created.json().id}`, headers: as('erin'), payload: { secret: 'new-s3cr3t' } });
    expect(replaced.body).not.toContain('new-s3cr3t');
    expect(await api.services.connections.revealSecret(created.json().id)).toBe('new-s3cr3t');
    const audit = await api.prisma.auditEntry.findMany({ where: { targetType: 'connection' } });
    expect(JSON.stringify(audit.map((entry) => ({ ...entry, id: String(entry.id) })))).not.toContain('s3cr3t');
  });

  it('lets admins manage users and grants only in their own environments, and read the audit log', async () => {
    expect((await api.app.inject({ method: 'GET', url: '/users', headers: as('carol') })).statusCode).toBe(403);
    const created = await api.app.inject({ method: 'POST', url: '/users', headers: as('erin'), payload: { email: 'frank@example.org', name: 'Frank', password: PASSWORD } });
    expect(created.statusCode).toBe(201);
    const frank = created.json().id as string;
    expect((await api.app.inject({ method: 'POST', url: `/users/${frank}/grants`, headers: as('erin'), payload: { environment: 'prod', role: 'approver' } })).statusCode).toBe(201);
    expect((await api.app.inject({ method: 'POST', url: `/users/${frank}/grants`, headers: as('erin'), payload: { environment: 'dev', role: 'admin' } })).statusCode).toBe(403);
    const listed = (await api.app.inject({ method: 'GET', url: '/users', headers: as('erin') })).json();
    expect(listed.find((user: { email: string }) => user.email === 'frank@example.org').grants).toMatchObject([{ environment: 'prod', role: 'approver' }]);
    expect(JSON.stringify(listed)).not.toMatch(/password|argon2/i);

    const denied = (await api.app.inject({ method: 'GET', url: '/audit?outcome=denied&action=grants', headers: as('erin') })).json();
    expect(denied[0]).toMatchObject({ actorEmail: 'erin@example.org', action: 'POST /users/:id/grants', outcome: 'denied', targetId: frank });
    const csv = await api.app.inject({ method: 'GET', url: '/audit.csv?action=users', headers: as('erin') });
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.body.split('\r\n')[0]).toBe('id,at,actorEmail,action,targetType,targetId,ip,userAgent,outcome,details');
    expect(csv.body).toContain('"POST /users"');
    expect((await api.app.inject({ method: 'GET', url: '/audit', headers: as('alice') })).statusCode).toBe(403);
  });

  it('imports manifests as catalog versions, refusing broken ones and keeping the active version', async () => {
    const manifest = (message: string) => `name: imported\ntitle: Imported\nenvironments: [prod]\nsteps:\n  - id: say\n    action: core.noop\n    with: { message: "${message}" }\n`;
    expect((await api.app.inject({ method: 'POST', url: '/runbooks/import', headers: as('alice'), payload: { manifest: manifest('v1') } })).statusCode).toBe(403);
    const first = await api.app.inject({ method: 'POST', url: '/runbooks/import', headers: as('erin'), payload: { manifest: manifest('v1') } });
    expect(first.statusCode).toBe(201);
    const broken = await api.app.inject({ method: 'POST', url: '/runbooks/import', headers: as('erin'), payload: { manifest: 'name: imported\ntitle: Imported\nsteps:\n  - id: say\n    action: core.nope\n' } });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().errors[0]).toMatchObject({ path: 'steps[0].action' });
    const second = await api.app.inject({ method: 'POST', url: '/runbooks/import', headers: as('erin'), payload: { manifest: manifest('v2') } });
    const versions = (await api.app.inject({ method: 'GET', url: '/runbooks/imported/versions', headers: as('carol') })).json();
    expect(versions.map((version: { version: string; active: boolean }) => [version.version, version.active])).toEqual([
      [second.json().version, true],
      [first.json().version, false],
    ]);
    const started = await api.app.inject({ method: 'POST', url: '/runbooks/imported/execute', headers: as('alice'), payload: { environment: 'prod' } });
    expect(started.statusCode).toBe(201);
    const result = (await api.temporal.workflow.getHandle(started.json().id).result()) as { outputs: { say: { message: string } } };
    expect(result.outputs.say.message).toBe('v2');
  });

  it('answers malformed requests with problem+json naming the field', async () => {
    const response = await api.app.inject({ method: 'POST', url: '/runbooks/gated/execute', headers: as('alice'), payload: { environment: 42, extra: true } });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json().detail).toMatch(/body/);
    const unknownRun = await api.app.inject({ method: 'GET', url: '/runs/nope-nope', headers: as('alice') });
    expect(unknownRun.statusCode).toBe(404);
    const docs = (await api.app.inject({ method: 'GET', url: '/docs/json' })).json();
    expect(Object.keys(docs.paths)).toEqual(expect.arrayContaining(['/runbooks/{name}/execute', '/runs/{id}/steps/{step}/approve']));
  });
});
