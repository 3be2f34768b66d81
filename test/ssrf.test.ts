// The SSRF attack, through the product as it runs: an operator starts runs
// whose http and notify steps aim at the worker's own network (loopback, the
// cloud metadata address, a redirect from an allowed server, IP spellings),
// on the real API, worker, Temporal and PostgreSQL. Every one is refused with
// a message saying how an admin allows it; what an admin allowlists works, in
// that environment only, and a viewer of the run never reads the page.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startApiForTests } from './api-harness.js';
import { writeManifests } from './harness.js';

const PASSWORD = 'correct horse battery staple';
const SECRET = 'AKIA-internal-only-credentials';

const runbooks = {
  'fetch-url': `
name: fetch-url
title: Fetch a URL
environments: [dev, prod]
requiredRole: operator
inputs: { type: object, required: [url], properties: { url: { type: string } } }
steps:
  - id: fetch
    action: http.request
    with: { url: "\${{ inputs.url }}" }
`,
  'check-url': `
name: check-url
title: Check a URL
environments: [dev, prod]
requiredRole: operator
inputs: { type: object, required: [url], properties: { url: { type: string } } }
steps:
  - id: check
    action: http.check
    with: { url: "\${{ inputs.url }}", expectBody: internal }
    retry: { maxAttempts: 1 }
`,
  'notify-url': `
name: notify-url
title: Notify a webhook
environments: [dev, prod]
requiredRole: operator
inputs: { type: object, required: [url], properties: { url: { type: string } } }
steps:
  - id: tell
    action: notify.webhook
    with: { url: "\${{ inputs.url }}", message: hello }
`,
};

let api: Awaited<ReturnType<typeof startApiForTests>>;
const tokens: Record<string, string> = {};
const as = (name: string) => ({ authorization: `Bearer ${tokens[name]}` });

/** The internal service an attacker wants: it must never be reached unless allowlisted. */
let internal: Server;
let internalHits: string[] = [];
/** A server the admin allowlisted (on 127.0.0.2) that redirects wherever it is told. */
let gateway: Server;

const portOf = (server: Server) => (server.address() as AddressInfo).port;
const internalUrl = (host = '127.0.0.1') => `http://${host}:${portOf(internal)}/secret`;

beforeAll(async () => {
  api = await startApiForTests(writeManifests(runbooks), [
    { email: 'admin@example.org', password: PASSWORD, grants: [['dev', 'admin'], ['prod', 'admin']] },
    { email: 'operator@example.org', password: PASSWORD, grants: [['dev', 'operator'], ['prod', 'operator']] },
    { email: 'viewer@example.org', password: PASSWORD, grants: [['dev', 'viewer']] },
  ]);
  for (const name of ['admin', 'operator', 'viewer']) tokens[name] = await api.logIn(`${name}@example.org`, PASSWORD);
  internal = createServer((request, response) => {
    internalHits.push(request.url ?? '');
    response.writeHead(200, { 'content-type': 'text/plain' }).end(`internal page: ${SECRET}`);
  });
  await new Promise<void>((resolve) => internal.listen(0, '127.0.0.1', resolve));
  gateway = createServer((request, response) => {
    const to = new URL(request.url ?? '/', 'http://gateway').searchParams.get('to');
    response.writeHead(to ? 302 : 200, to ? { location: to } : {}).end();
  });
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.2', resolve));
}, 120_000);

afterAll(async () => {
  internal?.close();
  gateway?.close();
  await api?.stop();
});

beforeEach(() => {
  internalHits = [];
});

async function setAllowlist(environment: string, entries: string[], who = 'admin') {
  return api.app.inject({ method: 'PUT', url: `/environments/${environment}/egress-allowlist`, headers: as(who), payload: { entries } });
}

/** Starts a run as the operator, waits for its end, and reads it as `reader` does through the API. */
async function run(runbook: keyof typeof runbooks, url: string, environment = 'dev', reader = 'operator') {
  const started = await api.app.inject({ method: 'POST', url: `/runbooks/${runbook}/execute`, headers: as('operator'), payload: { environment, inputs: { url } } });
  expect(started.statusCode, started.body).toBe(201);
  const id = started.json().id as string;
  await api.temporal.workflow
    .getHandle(id)
    .result()
    .catch(() => undefined);
  const read = await api.app.inject({ method: 'GET', url: `/runs/${id}`, headers: as(reader) });
  expect(read.statusCode, read.body).toBe(200);
  const details = read.json() as { status: string; progress: { steps: Array<{ status: string; error?: string; attempts: number; output?: string; outputSummary?: string }> } };
  return { id, details, step: details.progress.steps[0]!, body: read.body };
}

describe('server-side request forgery through http and notify steps', () => {
  it('refuses the worker\'s own loopback services, saying how an admin allows them', async () => {
    const { details, step } = await run('fetch-url', internalUrl());
    expect(details.status).toBe('FAILED');
    expect(step.attempts).toBe(1);
    expect(step.error).toContain(
      `GET ${internalUrl()} refused: 127.0.0.1 is a loopback address; an admin can allow it for dev with PUT /environments/dev/egress-allowlist (add "127.0.0.1" or a range holding it)`,
    );
    expect(internalHits).toEqual([]);
  });

  it('refuses the cloud metadata address', async () => {
    const { step } = await run('fetch-url', 'http://169.254.169.254/latest/meta-data/iam/security-credentials/');
    expect(step.error).toContain('169.254.169.254 is a cloud metadata address; an admin can allow it for dev only by naming exactly "169.254.169.254"');
  });

  it('refuses a host name that resolves to loopback, and the decimal and hex spellings of 127.0.0.1', async () => {
    const localhost = await run('fetch-url', internalUrl('localhost'));
    expect(localhost.step.error).toMatch(/localhost resolves to (127\.0\.0\.1|::1), a loopback address; an admin can allow it for dev/);
    for (const spelling of ['2130706433', '0x7f.1', '017700000001']) {
      const { step } = await run('fetch-url', internalUrl(spelling));
      expect({ spelling, error: step.error }).toEqual({ spelling, error: expect.stringContaining('127.0.0.1 is a loopback address') });
    }
    expect(internalHits).toEqual([]);
  });

  it('refuses a webhook notification to loopback', async () => {
    const { step } = await run('notify-url', internalUrl());
    expect(step.error).toContain(`POST ${internalUrl()} refused: 127.0.0.1 is a loopback address`);
    expect(internalHits).toEqual([]);
  });

  it('refuses a redirect from an allowlisted server to loopback', async () => {
    expect((await setAllowlist('dev', ['127.0.0.2'])).statusCode).toBe(200);
    const bounce = `http://127.0.0.2:${portOf(gateway)}/?to=${encodeURIComponent(internalUrl())}`;
    const { step } = await run('fetch-url', bounce);
    expect(step.error).toContain(`GET ${bounce} refused: redirected to ${internalUrl()}, and 127.0.0.1 is a loopback address`);
    expect(internalHits).toEqual([]);
  });

  it('reaches what the admin allowlisted, in that environment only, and a viewer of the run does not read the page', async () => {
    expect((await setAllowlist('dev', ['127.0.0.2', '127.0.0.1'])).statusCode).toBe(200);
    const checked = await run('check-url', internalUrl(), 'dev', 'viewer');
    expect(checked.details.status).toBe('COMPLETED');
    expect(internalHits).toEqual(['/secret']);
    expect(checked.body).toContain('bodyMatched');
    expect(checked.body).not.toContain(SECRET);
    const timeline = await api.app.inject({ method: 'GET', url: `/runs/${checked.id}/timeline`, headers: as('viewer') });
    expect(timeline.statusCode).toBe(200);
    expect(timeline.body).not.toContain(SECRET);

    const fetched = await run('fetch-url', internalUrl());
    expect(fetched.details.status).toBe('COMPLETED');

    const inProd = await run('fetch-url', internalUrl(), 'prod');
    expect(inProd.step.error).toContain('127.0.0.1 is a loopback address; an admin can allow it for prod');
  });
});

describe('the egress allowlist', () => {
  it('is read by anyone with a role in the environment and changed by its admins only, audited', async () => {
    const read = await api.app.inject({ method: 'GET', url: '/environments/dev/egress-allowlist', headers: as('viewer') });
    expect(read.json()).toMatchObject({ environment: 'dev', entries: ['127.0.0.2', '127.0.0.1'], updatedBy: 'admin@example.org' });
    expect((await setAllowlist('dev', ['10.0.0.0/8'], 'viewer')).statusCode).toBe(403);
    expect((await setAllowlist('dev', ['10.0.0.0/8'], 'operator')).statusCode).toBe(403);
    expect((await api.app.inject({ method: 'GET', url: '/environments/prod/egress-allowlist', headers: as('viewer') })).statusCode).toBe(403);

    const changed = await setAllowlist('dev', ['10.0.0.0/8', 'health.internal', '*.svc.internal']);
    expect(changed.json()).toMatchObject({ entries: ['10.0.0.0/8', 'health.internal', '*.svc.internal'], updatedBy: 'admin@example.org' });
    const audited = await api.prisma.auditEntry.findMany({ where: { targetType: 'egress-allowlist' }, orderBy: { id: 'asc' } });
    expect(audited.map((entry) => [entry.actorEmail, entry.outcome, entry.targetId])).toEqual(
      expect.arrayContaining([
        ['viewer@example.org', 'denied', 'dev'],
        ['operator@example.org', 'denied', 'dev'],
        ['admin@example.org', 'success', 'dev'],
      ]),
    );
    expect(audited.at(-1)).toMatchObject({ action: 'PUT /environments/:environment/egress-allowlist', details: { entries: ['10.0.0.0/8', 'health.internal', '*.svc.internal'] } });
  });

  it('refuses entries that are not addresses, ranges or host names, naming each, and changes nothing', async () => {
    const refused = await setAllowlist('dev', ['10.0.0.0/8', '10.0.0.0/33', '2130706433']);
    expect(refused.statusCode).toBe(400);
    expect(refused.json().errors).toEqual([
      { path: 'entries[1]', message: expect.stringContaining('"10.0.0.0/33" is not an address, a CIDR range') },
      { path: 'entries[2]', message: expect.stringContaining('"2130706433" is not') },
    ]);
    expect((await api.app.inject({ method: 'GET', url: '/environments/dev/egress-allowlist', headers: as('admin') })).json().entries).toEqual(['10.0.0.0/8', 'health.internal', '*.svc.internal']);
  });
});
