// Inbound webhook triggers, from request to run: signatures (Jarvis's HMAC with
// a timestamp, GitHub's X-Hub-Signature-256, bearer), the inputs mapping, dedup,
// filters, rate limits, the owner's right checked at every delivery, and the
// real chain Prometheus → Alertmanager → Jarvis starting one run per firing alert.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TriggerReceiver, type TriggerRefusal } from '../api/services/trigger-receiver.js';
import type { TriggerSettings, TriggerView } from '../api/services/trigger-service.js';
import { RUNBOOK_ATTRIBUTE } from '../workflows/search-attributes.js';
import { startApiForTests } from './api-harness.js';
import { scratchDir, writeManifests } from './files.js';
import { runCli, type ProcessEnv } from './processes.js';
import { sleep, waitFor } from './wait.js';

const PASSWORD = 'trigger owner password 1';

const repoInputs = `inputs:
  type: object
  properties:
    repo: { type: string }
    ref: { type: string }
    commits: { type: integer }
  required: [repo]
  additionalProperties: false`;
const noop = `steps:\n  - id: say\n    action: core.noop\n`;
const runbook = (name: string, inputs = repoInputs) => `name: ${name}\ntitle: ${name}\nenvironments: [dev]\nrequiredRole: operator\n${inputs}\n${noop}`;

const diskInputs = `inputs:
  type: object
  properties:
    instance: { type: string }
    severity: { type: string, enum: [critical, warning] }
    summary: { type: string }
  required: [instance, severity]
  additionalProperties: false`;

const manifests = {
  'deploy-repo': runbook('deploy-repo'),
  // Runbooks no delivery may start: the tests that refuse count their runs.
  quiet: runbook('quiet'),
  'quiet-owner': runbook('quiet-owner'),
  'disk-alert': runbook('disk-alert', diskInputs),
  // Started only by the real Prometheus → Alertmanager chain, so its runs can be counted.
  'disk-full': runbook('disk-full', diskInputs),
};

let api: Awaited<ReturnType<typeof startApiForTests>>;
let operatorToken = '';
let viewerToken = '';

beforeAll(async () => {
  api = await startApiForTests(writeManifests(manifests), [
    { email: 'ops@example.org', password: PASSWORD, grants: [['dev', 'operator']] },
    { email: 'revoked@example.org', password: PASSWORD, grants: [['dev', 'operator']] },
    { email: 'viewer@example.org', password: PASSWORD, grants: [['dev', 'viewer']] },
  ]);
  operatorToken = await api.logIn('ops@example.org', PASSWORD);
  viewerToken = await api.logIn('viewer@example.org', PASSWORD);
}, 120_000);

afterAll(async () => api?.stop());

let address: Promise<string> | undefined;
/** The API on a real port (once), for peers that speak HTTP: Alertmanager, the CLI. */
const apiUrl = () => (address ??= api.app.listen({ port: 0, host: '127.0.0.1' }));

let sequence = 0;

/** A trigger created through the API by the operator (its owner); its secret as the answer showed it. */
async function createTrigger(settings: Partial<TriggerSettings> & { runbook: string }, token = operatorToken): Promise<{ trigger: TriggerView; secret: string }> {
  const response = await api.app.inject({
    method: 'POST',
    url: '/triggers',
    headers: { authorization: `Bearer ${token}` },
    payload: { name: `hook-${(sequence += 1)}`, environment: 'dev', ...settings },
  });
  if (response.statusCode !== 201) throw new Error(`creating a trigger failed: ${response.statusCode} ${response.body}`);
  return response.json();
}

const hmac = (secret: string, data: string) => createHmac('sha256', secret).update(data).digest('hex');

/** A delivery signed the Jarvis way: sha256 HMAC of "<timestamp>.<body>". */
function jarvisSigned(secret: string, payload: unknown, timestamp = Math.floor(Date.now() / 1000)) {
  const body = JSON.stringify(payload);
  return { body, headers: { 'content-type': 'application/json', 'x-jarvis-timestamp': String(timestamp), 'x-jarvis-signature': `sha256=${hmac(secret, `${timestamp}.${body}`)}` } };
}

const deliver = (trigger: TriggerView, request: { body: string; headers: Record<string, string> }) =>
  api.app.inject({ method: 'POST', url: trigger.path, headers: request.headers, payload: request.body });

const deliveriesOf = async (trigger: TriggerView) => api.prisma.triggerDelivery.findMany({ where: { triggerId: trigger.id }, orderBy: { id: 'asc' } });

/** Every execution of `runbook` on this suite's task queue (visibility lags a little: asked after a pause). */
async function executionsOf(name: string, settleMs = 1_000): Promise<string[]> {
  await sleep(settleMs);
  const ids: string[] = [];
  for await (const execution of api.temporal.workflow.list({ query: `TaskQueue = '${api.taskQueue}' AND ${RUNBOOK_ATTRIBUTE.name} = '${name}'` })) ids.push(execution.workflowId);
  return ids;
}

const push = (repo: string, extra: Record<string, unknown> = {}) => ({
  ref: 'refs/heads/main',
  repository: { name: repo, full_name: `acme/${repo}` },
  commits: [{ id: 'a1' }, { id: 'b2' }],
  ...extra,
});
const repoMapping = { repo: '${{ body.repository.name }}', ref: '${{ body.ref }}' };

describe('a webhook trigger', () => {
  it('refuses a delivery with a bad or missing signature with 401, starts nothing and logs it', async () => {
    const { trigger, secret } = await createTrigger({ runbook: 'quiet', inputs: repoMapping });
    const forged = jarvisSigned(`${secret}x`, push('web'));
    expect((await deliver(trigger, forged)).statusCode).toBe(401);
    const unsigned = await deliver(trigger, { body: JSON.stringify(push('web')), headers: { 'content-type': 'application/json' } });
    expect(unsigned.statusCode).toBe(401);
    expect(unsigned.json().detail).toMatch(/not signed/);
    expect((await deliveriesOf(trigger)).map((row) => row.outcome)).toEqual(['unauthorized', 'unauthorized']);
    expect(await executionsOf('quiet')).toEqual([]);
  });

  it('answers 404 for an id no trigger has', async () => {
    const response = await deliver({ path: `/webhooks/triggers/${crypto.randomUUID()}` } as TriggerView, jarvisSigned('whatever', push('web')));
    expect(response.statusCode).toBe(404);
  });

  it('starts one run with inputs mapped from the body when the signature is right', async () => {
    const { trigger, secret } = await createTrigger({ runbook: 'deploy-repo', inputs: { ...repoMapping, commits: '${{ body.commits.length }}' } });
    const response = await deliver(trigger, jarvisSigned(secret, push('billing')));
    expect(response.statusCode, response.body).toBe(201);
    const answer = response.json();
    expect(answer).toMatchObject({ started: true, runId: expect.stringMatching(/^deploy-repo@dev\./) });
    const { inputs } = await api.services.runs.runInputs(answer.runId);
    expect(inputs).toEqual({ repo: 'billing', ref: 'refs/heads/main', commits: 2 });
    const [row] = await deliveriesOf(trigger);
    expect(row).toMatchObject({ outcome: 'started', runId: answer.runId, bodyBytes: JSON.stringify(push('billing')).length });
    expect(row!.bodySha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('treats what the body holds as data: a template inside it is passed on as text, not evaluated', async () => {
    const { trigger, secret } = await createTrigger({ runbook: 'deploy-repo', inputs: { repo: 'repo ${{ body.repository.name }}' } });
    const response = await deliver(trigger, jarvisSigned(secret, push('${{ body.ref }}')));
    expect(response.statusCode, response.body).toBe(201);
    expect((await api.services.runs.runInputs(response.json().runId)).inputs).toEqual({ repo: 'repo ${{ body.ref }}' });
  });

  it('answers a duplicate delivery with the run the first one started, and starts no second run', async () => {
    const { trigger, secret } = await createTrigger({ runbook: 'deploy-repo', inputs: repoMapping, dedupKey: '${{ body.delivery }}' });
    const first = await deliver(trigger, jarvisSigned(secret, push('dedup', { delivery: 'd-1' })));
    expect(first.statusCode, first.body).toBe(201);
    // The same delivery again (a redelivery), and one with another body but the same delivery id.
    const again = await deliver(trigger, jarvisSigned(secret, push('dedup', { delivery: 'd-1' })));
    const sameKey = await deliver(trigger, jarvisSigned(secret, push('dedup-other', { delivery: 'd-1' })));
    for (const response of [again, sameKey]) {
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ started: true, runId: first.json().runId, duplicate: true });
    }
    expect((await deliveriesOf(trigger)).map((row) => row.outcome)).toEqual(['started', 'duplicate', 'duplicate']);
  });

  it('dedups by the body’s sha256 without a dedup key', async () => {
    const { trigger, secret } = await createTrigger({ runbook: 'deploy-repo', inputs: repoMapping });
    const body = push('hash-dedup');
    const first = await deliver(trigger, jarvisSigned(secret, body));
    const second = await deliver(trigger, jarvisSigned(secret, body));
    expect(first.statusCode).toBe(201);
    expect(second.json()).toEqual({ started: true, runId: first.json().runId, duplicate: true });
  });

  it('starts nothing when the filter is false, and says why', async () => {
    const { trigger, secret } = await createTrigger({ runbook: 'quiet', inputs: repoMapping, filter: "body.ref == 'refs/heads/release'" });
    const response = await deliver(trigger, jarvisSigned(secret, push('filtered')));
    expect(response.statusCode).toBe(202);
    expect(response.json()).toMatchObject({ started: false, reason: expect.stringContaining('filter') });
    expect((await deliveriesOf(trigger)).map((row) => row.outcome)).toEqual(['filtered']);
    expect(await executionsOf('quiet')).toEqual([]);
  });

  it('refuses a signed request whose timestamp is stale (a replay)', async () => {
    const { trigger, secret } = await createTrigger({ runbook: 'quiet', inputs: repoMapping });
    const response = await deliver(trigger, jarvisSigned(secret, push('replayed'), Math.floor(Date.now() / 1000) - 10 * 60));
    expect(response.statusCode).toBe(401);
    expect(response.json().detail).toMatch(/X-Jarvis-Timestamp/);
    expect(await executionsOf('quiet')).toEqual([]);
  });

  it('accepts GitHub’s X-Hub-Signature-256, so a GitHub or Gitea webhook can point at it', async () => {
    const { trigger, secret } = await createTrigger({ runbook: 'deploy-repo', inputs: repoMapping });
    const body = JSON.stringify(push('from-github'));
    const response = await deliver(trigger, { body, headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${hmac(secret, body)}` } });
    expect(response.statusCode, response.body).toBe(201);
    expect((await api.services.runs.runInputs(response.json().runId)).inputs).toMatchObject({ repo: 'from-github' });
  });

  it('with bearer auth, starts on the right secret and refuses any other', async () => {
    const { trigger, secret } = await createTrigger({ runbook: 'deploy-repo', auth: 'bearer', inputs: repoMapping });
    const body = JSON.stringify(push('bearer'));
    expect((await deliver(trigger, { body, headers: { 'content-type': 'application/json', authorization: 'Bearer not-the-secret' } })).statusCode).toBe(401);
    // A Jarvis HMAC is not what a bearer trigger takes.
    expect((await deliver(trigger, jarvisSigned(secret, push('bearer')))).statusCode).toBe(401);
    const response = await deliver(trigger, { body, headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` } });
    expect(response.statusCode, response.body).toBe(201);
  });

  it('answers 400 to a body that is not JSON, and 422 with the runbook’s message when the mapping gives invalid inputs', async () => {
    const { trigger, secret } = await createTrigger({ runbook: 'deploy-repo', inputs: { ...repoMapping, commits: '${{ body.count }}' } });
    const timestamp = Math.floor(Date.now() / 1000);
    const notJson = await deliver(trigger, {
      body: 'not json',
      headers: { 'content-type': 'text/plain', 'x-jarvis-timestamp': String(timestamp), 'x-jarvis-signature': `sha256=${hmac(secret, `${timestamp}.not json`)}` },
    });
    expect(notJson.statusCode).toBe(400);
    const invalid = await deliver(trigger, jarvisSigned(secret, push('typed', { count: 'many' })));
    expect(invalid.statusCode).toBe(422);
    expect(invalid.json().errors).toEqual([expect.objectContaining({ path: 'inputs.commits' })]);
    const rows = await deliveriesOf(trigger);
    expect(rows.map((row) => row.outcome)).toEqual(['invalid', 'invalid']);
    expect(rows[1]!.reason).toMatch(/inputs\.commits/);
  });

  it('answers 429 with Retry-After over its rate limit', async () => {
    const { trigger, secret } = await createTrigger({ runbook: 'deploy-repo', inputs: repoMapping, rateLimitPerMinute: 2 });
    expect((await deliver(trigger, jarvisSigned(secret, push('rate-1')))).statusCode).toBe(201);
    expect((await deliver(trigger, jarvisSigned(secret, push('rate-2')))).statusCode).toBe(201);
    const limited = await deliver(trigger, jarvisSigned(secret, push('rate-3')));
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect((await deliveriesOf(trigger)).map((row) => row.outcome)).toEqual(['started', 'started', 'rate-limited']);
  });

  it('holds its rate limit under a burst of concurrent deliveries', async () => {
    const { trigger, secret } = await createTrigger({ runbook: 'deploy-repo', inputs: repoMapping, rateLimitPerMinute: 3 });
    const answers = await Promise.all(Array.from({ length: 8 }, (_, index) => deliver(trigger, jarvisSigned(secret, push(`burst-${index}`)))));
    const statuses = answers.map((answer) => answer.statusCode).sort();
    expect(statuses).toEqual([201, 201, 201, 429, 429, 429, 429, 429]);
  });

  it('refuses every delivery once its owner lost the role, and audits trigger.refused', async () => {
    const revoked = await api.logIn('revoked@example.org', PASSWORD);
    const { trigger, secret } = await createTrigger({ runbook: 'quiet-owner', inputs: repoMapping }, revoked);
    await api.prisma.roleGrant.deleteMany({ where: { user: { email: 'revoked@example.org' } } });
    const response = await deliver(trigger, jarvisSigned(secret, push('revoked')));
    expect(response.statusCode).toBe(403);
    expect(response.json().detail).toMatch(/revoked@example\.org.*may no longer start quiet-owner in dev/);
    expect((await deliveriesOf(trigger)).map((row) => row.outcome)).toEqual(['refused']);
    const audited = await api.prisma.auditEntry.findMany({ where: { action: 'trigger.refused', targetId: trigger.id } });
    expect(audited).toEqual([expect.objectContaining({ outcome: 'denied', actorEmail: 'revoked@example.org', targetType: 'trigger' })]);
    expect(await executionsOf('quiet-owner')).toEqual([]);
  });

  it('answers 409 while disabled', async () => {
    const { trigger, secret } = await createTrigger({ runbook: 'quiet', inputs: repoMapping, enabled: false });
    expect((await deliver(trigger, jarvisSigned(secret, push('disabled')))).statusCode).toBe(409);
  });
});

describe('the trigger API', () => {
  const as = (token: string) => ({ authorization: `Bearer ${token}` });

  it('shows the secret once, stores it sealed, and a rotation retires the old one', async () => {
    const { trigger, secret } = await createTrigger({ runbook: 'deploy-repo', inputs: repoMapping });
    expect(secret).toMatch(/^jts_/);
    const shown = await api.app.inject({ method: 'GET', url: `/triggers/${trigger.id}`, headers: as(viewerToken) });
    expect(shown.statusCode).toBe(200);
    expect(shown.body).not.toContain(secret);
    const listed = await api.app.inject({ method: 'GET', url: '/triggers?environment=dev', headers: as(viewerToken) });
    expect(listed.body).not.toContain(secret);
    const row = await api.prisma.trigger.findUniqueOrThrow({ where: { id: trigger.id } });
    expect(row.secretCiphertext).not.toContain(secret);
    const audit = await api.prisma.auditEntry.findMany({ where: { targetId: trigger.id } });
    expect(JSON.stringify(audit, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))).not.toContain(secret);

    const rotated = await api.app.inject({ method: 'POST', url: `/triggers/${trigger.id}/rotate-secret`, headers: as(operatorToken) });
    expect(rotated.statusCode).toBe(200);
    const fresh = rotated.json().secret as string;
    expect((await deliver(trigger, jarvisSigned(secret, push('rotated')))).statusCode).toBe(401);
    expect((await deliver(trigger, jarvisSigned(fresh, push('rotated')))).statusCode).toBe(201);
  });

  it('refuses expressions it cannot read, and a trigger from someone who may not start the runbook', async () => {
    const bad = await api.app.inject({ method: 'POST', url: '/triggers', headers: as(operatorToken), payload: { name: 'bad', environment: 'dev', runbook: 'deploy-repo', filter: 'body.x ==' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors).toEqual([expect.objectContaining({ path: 'filter' })]);
    const viewer = await api.app.inject({ method: 'POST', url: '/triggers', headers: as(viewerToken), payload: { name: 'v', environment: 'dev', runbook: 'deploy-repo' } });
    expect(viewer.statusCode).toBe(403);
  });

  it('lists deliveries newest first, changes and deletes a trigger, each change audited', async () => {
    const { trigger, secret } = await createTrigger({ runbook: 'deploy-repo', inputs: repoMapping });
    await deliver(trigger, jarvisSigned(secret, push('log-1')));
    await deliver(trigger, jarvisSigned(`${secret}-wrong`, push('log-2')));
    const deliveries = await api.app.inject({ method: 'GET', url: `/triggers/${trigger.id}/deliveries`, headers: as(viewerToken) });
    expect(deliveries.json().map((row: { outcome: string }) => row.outcome)).toEqual(['unauthorized', 'started']);
    const patched = await api.app.inject({ method: 'PATCH', url: `/triggers/${trigger.id}`, headers: as(operatorToken), payload: { enabled: false, filter: "body.ref == 'x'" } });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ enabled: false, filter: "body.ref == 'x'" });
    const deleted = await api.app.inject({ method: 'DELETE', url: `/triggers/${trigger.id}`, headers: as(operatorToken) });
    expect(deleted.statusCode).toBe(204);
    const actions = (await api.prisma.auditEntry.findMany({ where: { targetId: trigger.id, targetType: 'trigger' }, orderBy: { id: 'asc' } })).map((entry) => `${entry.action} ${entry.outcome}`);
    expect(actions).toEqual(
      expect.arrayContaining(['POST /triggers success', 'PATCH /triggers/:id success', 'DELETE /triggers/:id success', 'POST /webhooks/triggers/:id success', 'POST /webhooks/triggers/:id denied']),
    );
  });
});

/** An Alertmanager notification (webhook payload version 4) as Alertmanager sends it. */
function notification(alerts: Array<{ status: 'firing' | 'resolved'; fingerprint: string; labels: Record<string, string>; startsAt?: string }>) {
  return {
    version: '4',
    groupKey: '{}:{alertname="DiskAlmostFull"}',
    truncatedAlerts: 0,
    status: alerts.some((alert) => alert.status === 'firing') ? 'firing' : 'resolved',
    receiver: 'jarvis',
    groupLabels: { alertname: 'DiskAlmostFull' },
    commonLabels: { alertname: 'DiskAlmostFull' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example.org:9093',
    alerts: alerts.map((alert) => ({
      status: alert.status,
      labels: { alertname: 'DiskAlmostFull', ...alert.labels },
      annotations: { summary: `disk almost full on ${alert.labels.instance}` },
      startsAt: alert.startsAt ?? '2026-12-01T10:00:00.000Z',
      endsAt: alert.status === 'resolved' ? '2026-12-01T10:05:00.000Z' : '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.example.org:9090/graph',
      fingerprint: alert.fingerprint,
    })),
  };
}

describe('an alertmanager trigger', () => {
  const alertInputs = { instance: '${{ alert.labels.instance }}', severity: '${{ alert.labels.severity }}' };
  const bearer = (secret: string, payload: unknown) => ({ body: JSON.stringify(payload), headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` } });

  it('starts once per firing alert matching its filter, and records resolved alerts without starting anything', async () => {
    const { trigger, secret } = await createTrigger({ runbook: 'disk-alert', kind: 'alertmanager', filter: "alert.labels.severity == 'critical'", inputs: alertInputs });
    expect(trigger.auth).toBe('bearer');
    const first = await deliver(
      trigger,
      bearer(
        secret,
        notification([
          { status: 'firing', fingerprint: 'aaa1', labels: { instance: 'db-1', severity: 'critical' } },
          { status: 'firing', fingerprint: 'bbb2', labels: { instance: 'db-2', severity: 'warning' } },
        ]),
      ),
    );
    expect(first.statusCode, first.body).toBe(200);
    const [started, filtered] = first.json().results;
    expect(started).toMatchObject({ fingerprint: 'aaa1', outcome: 'started', runId: expect.stringMatching(/^disk-alert@dev\./) });
    expect(filtered).toMatchObject({ fingerprint: 'bbb2', outcome: 'filtered' });
    expect((await api.services.runs.runInputs(started.runId)).inputs).toEqual({ instance: 'db-1', severity: 'critical' });

    // The repeat of the same firing starts nothing; the resolution is recorded; a new firing of the same alert starts again.
    const repeat = await deliver(trigger, bearer(secret, notification([{ status: 'firing', fingerprint: 'aaa1', labels: { instance: 'db-1', severity: 'critical' } }])));
    expect(repeat.json().results).toEqual([{ fingerprint: 'aaa1', status: 'firing', outcome: 'duplicate', runId: started.runId }]);
    const resolved = await deliver(trigger, bearer(secret, notification([{ status: 'resolved', fingerprint: 'aaa1', labels: { instance: 'db-1', severity: 'critical' } }])));
    expect(resolved.json().results).toEqual([{ fingerprint: 'aaa1', status: 'resolved', outcome: 'resolved' }]);
    // ...and people are told (notifications), once.
    const told = await api.prisma.notificationEvent.findMany({ where: { kind: 'alert.resolved', dedupKey: { startsWith: `alert:${trigger.id}:aaa1:` } } });
    expect(told.map((event) => (event.payload as { subject: string }).subject)).toEqual([`DiskAlmostFull (${trigger.name})`]);
    const again = await deliver(
      trigger,
      bearer(secret, notification([{ status: 'firing', fingerprint: 'aaa1', labels: { instance: 'db-1', severity: 'critical' }, startsAt: '2026-12-01T11:00:00.000Z' }])),
    );
    expect(again.json().results[0]).toMatchObject({ outcome: 'started' });
    expect(again.json().results[0].runId).not.toBe(started.runId);
    expect((await deliveriesOf(trigger)).map((row) => `${row.alertFingerprint} ${row.outcome}`)).toEqual(['aaa1 started', 'bbb2 filtered', 'aaa1 duplicate', 'aaa1 resolved', 'aaa1 started']);
  });

  it('answers 400 to what is not an Alertmanager notification, and takes bearer auth only', async () => {
    const { trigger, secret } = await createTrigger({ runbook: 'disk-alert', kind: 'alertmanager', inputs: alertInputs });
    expect((await deliver(trigger, bearer(secret, { version: '3', alerts: [] }))).statusCode).toBe(400);
    const hmacAlertmanager = await api.app.inject({
      method: 'POST',
      url: '/triggers',
      headers: { authorization: `Bearer ${operatorToken}` },
      payload: { name: 'am-hmac', environment: 'dev', runbook: 'disk-alert', kind: 'alertmanager', auth: 'hmac' },
    });
    expect(hmacAlertmanager.statusCode).toBe(400);
  });

  it('tells its onRefused listener when the owner may no longer start the runbook', async () => {
    const refusals: TriggerRefusal[] = [];
    const receiver = new TriggerReceiver(api.services.triggers, api.prisma, (request) => api.services.runs.startRun(request), api.services.audit, {
      onRefused: (refusal) => void refusals.push(refusal),
    });
    const owner = await api.services.users.createUser({ email: 'leaving@example.org', name: 'Leaving', password: PASSWORD });
    await api.services.users.grant(owner.id, 'dev', 'operator');
    const principal = await api.services.triggers.principalOf(owner.id);
    const { trigger, secret } = await api.services.triggers.create(
      { name: 'leaving', kind: 'alertmanager', runbook: 'disk-alert', environment: 'dev', auth: 'bearer', inputs: alertInputs },
      principal!,
    );
    await api.prisma.user.update({ where: { id: owner.id }, data: { disabled: true } });
    const result = await receiver.receive(trigger.id, { authorization: `Bearer ${secret}` }, Buffer.from(JSON.stringify(notification([]))));
    expect(result).toMatchObject({ status: 403 });
    expect(refusals).toEqual([
      expect.objectContaining({ triggerId: trigger.id, runbook: 'disk-alert', environment: 'dev', ownerEmail: 'leaving@example.org', reason: expect.stringMatching(/disabled/) }),
    ]);
  });
});

describe('jarvis triggers', () => {
  it('creates a trigger showing its URL and secret once, lists, shows, reads its deliveries and deletes it', async () => {
    const url = await apiUrl();
    const env: ProcessEnv = { JARVIS_DATA_DIR: scratchDir() };
    expect((await runCli(['login', '--api', url, '--email', 'ops@example.org'], env, `${PASSWORD}\n`)).code).toBe(0);
    const created = await runCli(['triggers', 'create', 'from-cli', '-r', 'deploy-repo', '-e', 'dev', '-i', 'repo=${{ body.repository.name }}', '--dedup-key', '${{ body.id }}', '-o', 'json'], env);
    expect(created.code, created.stderr).toBe(0);
    const { trigger, secret, url: hookUrl } = JSON.parse(created.stdout) as { trigger: TriggerView; secret: string; url: string };
    expect(hookUrl).toBe(`${url}/webhooks/triggers/${trigger.id}`);
    expect(trigger.inputs).toEqual({ repo: '${{ body.repository.name }}' });

    const delivered = await fetch(hookUrl, { method: 'POST', ...jarvisSigned(secret, { id: 'evt-1', repository: { name: 'cli-repo' } }) });
    expect(delivered.status).toBe(201);

    const listed = JSON.parse((await runCli(['triggers', 'list', '-e', 'dev', '-o', 'json'], env)).stdout) as TriggerView[];
    expect(listed.map((entry) => entry.name)).toContain('from-cli');
    const shown = await runCli(['triggers', 'show', 'from-cli', '-e', 'dev'], env);
    expect(shown.stdout).toContain(hookUrl);
    expect(shown.stdout).not.toContain(secret);
    const deliveries = JSON.parse((await runCli(['triggers', 'deliveries', trigger.id, '-o', 'json'], env)).stdout) as Array<{ outcome: string }>;
    expect(deliveries.map((entry) => entry.outcome)).toEqual(['started']);
    expect((await runCli(['triggers', 'delete', trigger.id], env)).stdout).toContain('Deleted trigger from-cli');
    expect(await api.prisma.trigger.count({ where: { id: trigger.id } })).toBe(0);
  }, 60_000);
});

/** A port nothing listens on now. */
async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function startProcess(command: string, args: string[]): { child: ChildProcess; output: () => string } {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  return { child, output: () => output };
}

const ready = async (url: string) => {
  try {
    return (await fetch(url)).ok;
  } catch {
    return false;
  }
};

describe('the Prometheus → Alertmanager → Jarvis chain', () => {
  const children: ChildProcess[] = [];
  let target: Server | undefined;

  afterAll(async () => {
    for (const child of children) child.kill('SIGTERM');
    await new Promise<void>((resolve) => (target ? target.close(() => resolve()) : resolve()));
  });

  it('starts exactly one run for an alert that keeps firing, with inputs from its labels, and records the repeats as duplicates', async () => {
    const { trigger, secret } = await createTrigger({
      runbook: 'disk-full',
      kind: 'alertmanager',
      filter: "alert.labels.severity == 'critical'",
      inputs: { instance: '${{ alert.labels.instance }}', severity: '${{ alert.labels.severity }}', summary: '${{ alert.annotations.summary }}' },
    });
    const apiAddress = await apiUrl();

    // The scrape target: a disk that is almost full.
    target = createServer((_request, response) =>
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end('# TYPE jarvis_test_disk_free_ratio gauge\njarvis_test_disk_free_ratio 0.01\n'),
    );
    await new Promise<void>((resolve) => target!.listen(0, '127.0.0.1', resolve));
    const targetPort = (target.address() as { port: number }).port;

    const dir = mkdtempSync(path.join(os.tmpdir(), 'jarvis-alerting-'));
    const [prometheusPort, alertmanagerPort] = [await freePort(), await freePort()];
    writeFileSync(
      path.join(dir, 'alertmanager.yml'),
      [
        'route:',
        '  receiver: jarvis',
        "  group_by: ['alertname']",
        '  group_wait: 1s',
        '  group_interval: 2s',
        '  repeat_interval: 3s',
        'receivers:',
        '  - name: jarvis',
        '    webhook_configs:',
        `      - url: ${apiAddress}${trigger.path}`,
        '        send_resolved: true',
        '        http_config:',
        '          authorization:',
        '            type: Bearer',
        `            credentials: ${secret}`,
        '',
      ].join('\n'),
    );
    writeFileSync(
      path.join(dir, 'rules.yml'),
      [
        'groups:',
        '  - name: disk',
        '    rules:',
        '      - alert: DiskAlmostFull',
        '        expr: jarvis_test_disk_free_ratio < 0.1',
        '        for: 0s',
        '        labels: { severity: critical }',
        "        annotations: { summary: 'disk almost full on {{ $labels.instance }}' }",
        '',
      ].join('\n'),
    );
    writeFileSync(
      path.join(dir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        '  evaluation_interval: 1s',
        `rule_files: ['${path.join(dir, 'rules.yml')}']`,
        'alerting:',
        '  alertmanagers:',
        '    - static_configs:',
        `        - targets: ['127.0.0.1:${alertmanagerPort}']`,
        'scrape_configs:',
        '  - job_name: jarvis-test',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${targetPort}']`,
        '',
      ].join('\n'),
    );
    const alertmanager = startProcess('/usr/bin/prometheus-alertmanager', [
      `--config.file=${path.join(dir, 'alertmanager.yml')}`,
      `--storage.path=${path.join(dir, 'alertmanager-data')}`,
      `--web.listen-address=127.0.0.1:${alertmanagerPort}`,
      '--cluster.listen-address=',
    ]);
    children.push(alertmanager.child);
    const prometheus = startProcess('/usr/bin/prometheus', [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'prometheus-data')}`,
      `--web.listen-address=127.0.0.1:${prometheusPort}`,
    ]);
    children.push(prometheus.child);
    await waitFor(() => ready(`http://127.0.0.1:${alertmanagerPort}/-/ready`), { message: `Alertmanager to be ready:\n${alertmanager.output()}`, timeoutMs: 30_000 });
    await waitFor(() => ready(`http://127.0.0.1:${prometheusPort}/-/ready`), { message: `Prometheus to be ready:\n${prometheus.output()}`, timeoutMs: 30_000 });

    // The first notification starts the run; Alertmanager then repeats it every few seconds while the alert fires.
    const logged = await waitFor(
      async () => {
        const rows = await deliveriesOf(trigger);
        return rows.filter((row) => row.outcome === 'duplicate').length >= 2 && rows;
      },
      { message: 'Alertmanager to notify Jarvis three times', timeoutMs: 90_000, intervalMs: 500 },
    );
    const started = logged.filter((row) => row.outcome === 'started');
    expect(started).toHaveLength(1);
    expect(new Set(logged.map((row) => row.requestId)).size).toBeGreaterThanOrEqual(3);
    expect(new Set(logged.map((row) => row.alertFingerprint)).size).toBe(1);
    expect(logged.every((row) => row.runId === started[0]!.runId)).toBe(true);

    expect(await executionsOf('disk-full')).toEqual([started[0]!.runId]);
    const { inputs } = await api.services.runs.runInputs(started[0]!.runId!);
    expect(inputs).toEqual({ instance: `127.0.0.1:${targetPort}`, severity: 'critical', summary: `disk almost full on 127.0.0.1:${targetPort}` });
  }, 150_000);
});
