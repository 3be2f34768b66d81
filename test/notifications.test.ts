// Notifications end to end: events written with the run projection, the
// dispatcher, the durable delivery workflow, a real SMTP server (mailpit) and
// a local server speaking Slack's webhook API.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhook } from '../activities/notify/index.js';
import { startApiForTests } from './api-harness.js';
import { GATED_RUNBOOK } from './files.js';
import { startFakeChat } from './fake-chat.js';
import { writeManifests } from './harness.js';
import { startMailpit } from './mailpit.js';

const PASSWORD = 'notification password 1';
const SECRET = 'hunter2-notify-secret-value';
const WEB = 'http://127.0.0.1:3000';

const manifests = {
  failing: `
name: failing
title: Deploys, and fails
inputs: { type: object, properties: { token: { type: string, format: password } }, required: [token] }
steps:
  - id: prepare
    action: core.noop
  - id: deploy
    title: Deploy the app
    action: shell.run
    with: { command: 'echo "deploying with token $1"; echo "disk full on /var" >&2; exit 3', shell: true, args: ["\${{ inputs.token }}"] }
    retry: { maxAttempts: 1 }
`,
  gated: GATED_RUNBOOK,
  timed: `
name: timed
title: Waits for an approval with a deadline
steps:
  - id: gate
    title: Go live
    approval: { role: approver, deadline: 10m }
`,
  quick: `
name: quick
title: One step that does nothing
steps:
  - id: only
    action: core.noop
`,
};

let api: Awaited<ReturnType<typeof startApiForTests>>;
let mail: Awaited<ReturnType<typeof startMailpit>>;
let chat: Awaited<ReturnType<typeof startFakeChat>>;
let pool: pg.Pool;
const tokens: Record<string, string> = {};
/** Set by a test: the next dispatch pass dies after starting its workflows, before marking the event dispatched. */
let crashNextDispatch = false;
let crashes = 0;

async function call(who: string, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: object) {
  const response = await api.app.inject({ method, url, headers: { authorization: `Bearer ${tokens[who]}` }, ...(payload ? { payload } : {}) });
  return { status: response.statusCode, body: response.body ? (JSON.parse(response.body) as Record<string, unknown> & Array<Record<string, unknown>>) : undefined };
}

async function connection(name: string, type: string, config: Record<string, unknown>, secret?: string): Promise<string> {
  const created = await call('ada', 'POST', '/connections', { environment: 'dev', name, type, config, ...(secret ? { secret } : {}) });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body!.id as string;
}

async function rule(name: string, events: string[], connectionId: string, extra: Record<string, unknown> = {}): Promise<string> {
  const created = await call('ada', 'POST', '/notifications/rules', { environment: 'dev', name, events, connectionId, ...extra });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body!.id as string;
}

async function runToEnd(runbook: string, inputs: Record<string, unknown> = {}) {
  const { id } = await api.services.runs.startRun({ runbook, inputs, environment: 'dev', startedBy: 'olga@example.org' });
  const outcome = await api.temporal.workflow
    .getHandle(id)
    .result()
    .then(
      () => 'succeeded',
      () => 'failed',
    );
  return { id, outcome, endedAt: Date.now() };
}

async function deliveries(where: string, values: unknown[]) {
  const { rows } = await pool.query<{ target: string; status: string; attempts: number; channel: string; recipient: string; last_error: string | null; sent_at: Date | null; kind: string }>(
    `SELECT d.*, e.kind FROM notification_deliveries d JOIN notification_events e ON e.id = d.event_id WHERE ${where}`,
    values,
  );
  return rows;
}

beforeAll(async () => {
  mail = await startMailpit();
  chat = await startFakeChat();
  api = await startApiForTests(
    writeManifests(manifests),
    [
      { email: 'ada@example.org', password: PASSWORD, grants: [['dev', 'admin']] },
      {
        email: 'olga@example.org',
        password: PASSWORD,
        grants: [
          ['dev', 'operator'],
          ['dev', 'approver'],
        ],
      },
      { email: 'pablo@example.org', password: PASSWORD, grants: [['dev', 'approver']] },
      { email: 'vera@example.org', password: PASSWORD, grants: [['dev', 'viewer']] },
    ],
    {
      notifications: {
        notificationPollMs: 300,
        notificationHooks: {
          afterStarts: async () => {
            if (!crashNextDispatch) return;
            crashNextDispatch = false;
            crashes += 1;
            // Die once the delivery it started has sent and closed: the next dispatcher finds a finished workflow.
            for (let tries = 0; tries < 100 && chat.to('/hooks/nodes').length === 0; tries += 1) await new Promise((resolve) => setTimeout(resolve, 100));
            await new Promise((resolve) => setTimeout(resolve, 500));
            throw new Error('the dispatcher died here (test)');
          },
        },
      },
    },
  );
  pool = new pg.Pool({ connectionString: api.databaseUrl, max: 2 });
  for (const who of ['ada', 'olga', 'pablo', 'vera']) tokens[who] = await api.logIn(`${who}@example.org`, PASSWORD);
  // The local SMTP and chat servers are on loopback: dev allowlists it, as an admin would.
  await api.services.egressAllowlists.replace('dev', ['127.0.0.1'], 'ada@example.org');

  const smtp = await connection('mail', 'smtp', { host: '127.0.0.1', port: mail.smtpPort, security: 'none', from: 'jarvis@example.org', user: 'jarvis' }, 'smtp password');
  expect((await call('ada', 'PUT', '/notifications/defaults/dev', { connectionId: smtp })).status).toBe(200);
  for (const [who, events] of [
    ['olga', ['run.failed', 'approval.waiting', 'approval.decided']],
    ['pablo', ['approval.waiting', 'approval.deadline-near']],
    ['vera', ['approval.waiting', 'run.failed']],
  ] as const) {
    expect((await call(who, 'POST', '/notifications/subscriptions', { environment: 'dev', events })).status).toBe(201);
  }
}, 120_000);

afterAll(async () => {
  await pool?.end();
  await api?.stop();
  await chat?.stop();
  await mail?.stop();
});

describe('notifications', () => {
  it('e-mail a failed run to the subscribed starter through a real SMTP server, naming the failing step, linking the run, masking the secret, and post it to Slack', async () => {
    const slack = await connection('slack-ops', 'slack', {}, chat.url('/hooks/ops'));
    await rule('failures to slack', ['run.failed'], slack);
    // A team's channel is not anyone's personal subscription: those go by e-mail.
    const personal = await call('ada', 'POST', '/notifications/subscriptions', { environment: 'dev', events: ['run.failed'], connectionId: slack });
    expect(personal.status).toBe(400);

    const run = await runToEnd('failing', { token: SECRET });
    expect(run.outcome).toBe('failed');

    await expect.poll(() => mail.to('olga@example.org'), { timeout: 30_000, interval: 200 }).toHaveLength(1);
    const [message] = await mail.to('olga@example.org');
    expect(message!.Subject).toBe(`Run failed: failing (${run.id}) in dev`);
    const body = await mail.body(message!.ID);
    expect(body.Text).toContain('Failing step: Deploy the app (deploy)');
    expect(body.Text).toContain('disk full on /var');
    expect(body.Text).toContain(`${WEB}/runs/${encodeURIComponent(run.id)}`);
    expect(body.HTML).toContain(`href="${WEB}/runs/${encodeURIComponent(run.id)}"`);
    expect(body.Text + body.HTML).not.toContain(SECRET);
    // Vera may read runs in dev, but the run is not hers.
    expect(await mail.to('vera@example.org')).toEqual([]);

    await expect.poll(() => chat.to('/hooks/ops').length, { timeout: 30_000 }).toBe(1);
    const posted = JSON.parse(chat.to('/hooks/ops')[0]!.body) as { text: string };
    expect(posted.text).toContain(`Run failed: failing (${run.id}) in dev`);
    expect(posted.text).toContain(`${WEB}/runs/${encodeURIComponent(run.id)}`);
    expect(posted.text).not.toContain(SECRET);

    const logged = await call('ada', 'GET', `/notifications/deliveries?rule=${(await call('ada', 'GET', '/notifications/rules')).body![0]!.id as string}`);
    expect(logged.body).toEqual([expect.objectContaining({ kind: 'run.failed', runId: run.id, channel: 'slack', status: 'sent', attempts: 1 })]);
    const own = await call('olga', 'GET', '/notifications/deliveries');
    expect(own.body).toEqual([expect.objectContaining({ kind: 'run.failed', channel: 'smtp', recipient: 'olga@example.org', status: 'sent' })]);
  });

  it('tell the users who may decide a waiting approval, and never the starter', async () => {
    const { id } = await api.services.runs.startRun({ runbook: 'gated', inputs: {}, environment: 'dev', startedBy: 'olga@example.org' });
    try {
      await expect.poll(() => mail.to('pablo@example.org'), { timeout: 30_000, interval: 200 }).toHaveLength(1);
      const [message] = await mail.to('pablo@example.org');
      expect(message!.Subject).toBe(`Approval needed: step "gate" of gated (${id}) in dev waits for a decision (role approver)`);
      expect((await mail.body(message!.ID)).Text).toContain(`${WEB}/runs/${encodeURIComponent(id)}`);
      const waiting = await deliveries(`e.run_id = $1 AND e.kind = 'approval.waiting'`, [id]);
      // Olga holds the approver role but started the run; Vera is a viewer.
      expect(waiting.map((delivery) => delivery.recipient)).toEqual(['pablo@example.org']);
      expect((await mail.to('olga@example.org')).filter((sent) => sent.Subject.startsWith('Approval needed'))).toEqual([]);
      expect(await mail.to('vera@example.org')).toEqual([]);

      // Pablo approves: the starter hears of the decision.
      expect((await call('pablo', 'POST', `/runs/${encodeURIComponent(id)}/steps/gate/approve`, {})).status).toBe(200);
      await expect
        .poll(async () => (await mail.to('olga@example.org')).filter((sent) => sent.Subject.startsWith('Approval given')).map((sent) => sent.Subject), { timeout: 30_000, interval: 200 })
        .toEqual([`Approval given: step "gate" of gated (${id}) in dev by pablo@example.org`]);
    } finally {
      await api.temporal.workflow
        .getHandle(id)
        .terminate('test over')
        .catch(() => undefined);
    }
  });

  it('warn who may decide an approval when its deadline is near, once, in their language', async () => {
    expect((await call('pablo', 'PUT', '/notifications/locale', { locale: 'pt-BR' })).status).toBe(200);
    const { id } = await api.services.runs.startRun({ runbook: 'timed', inputs: {}, environment: 'dev', startedBy: 'olga@example.org' });
    try {
      // The deadline (10 minutes) is within the default window (15 minutes): the dispatcher's sweep reports it.
      await expect.poll(async () => (await mail.to('pablo@example.org')).filter((sent) => sent.Subject.startsWith('Prazo de aprovação próximo')).length, { timeout: 30_000, interval: 200 }).toBe(1);
      const [near] = (await mail.to('pablo@example.org')).filter((sent) => sent.Subject.startsWith('Prazo de aprovação próximo'));
      expect(near!.Subject).toContain(`a etapa "Go live" de timed (${id}) em dev expira em`);
      // The approval's own waiting notice is a separate delivery: it may arrive after the warning.
      await expect.poll(async () => (await mail.to('pablo@example.org')).filter((sent) => sent.Subject.startsWith('Aprovação necessária')).length, { timeout: 30_000, interval: 200 }).toBe(1);
      // Sweeps go on; the warning is not repeated.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect((await pool.query(`SELECT count(*)::int AS n FROM notification_events WHERE run_id = $1 AND kind = 'approval.deadline-near'`, [id])).rows[0].n).toBe(1);
    } finally {
      await call('pablo', 'PUT', '/notifications/locale', { locale: 'en' });
      await api.temporal.workflow
        .getHandle(id)
        .terminate('test over')
        .catch(() => undefined);
    }
  });

  it('retry a channel that answers 500 until it takes the message, without delaying or failing the run', async () => {
    const flaky = await connection('slack-flaky', 'slack', {}, chat.url('/hooks/flaky'));
    await rule('successes to a flaky slack', ['run.succeeded'], flaky, { runbook: 'quick' });
    chat.failNext('/hooks/flaky', 2);

    const started = Date.now();
    const run = await runToEnd('quick');
    expect(run.outcome).toBe('succeeded');
    // Retries of the notification take 1 s and 2 s: the run did not wait for them.
    expect(run.endedAt - started).toBeLessThan(3_000);

    await expect.poll(async () => (await deliveries(`e.run_id = $1 AND d.channel = 'slack'`, [run.id]))[0]?.status, { timeout: 30_000, interval: 200 }).toBe('sent');
    const [delivery] = await deliveries(`e.run_id = $1 AND d.channel = 'slack'`, [run.id]);
    expect(delivery).toMatchObject({ attempts: 3, status: 'sent', last_error: expect.stringContaining('500') });
    expect(chat.to('/hooks/flaky').length).toBe(3);
    expect(delivery!.sent_at!.getTime()).toBeGreaterThan(run.endedAt);
    // What bench:schedules reads: event-to-delivered latencies, here at least the two retry delays.
    const latencies = await api.services.notifications.deliveryLatencies(new Date(started));
    expect(latencies.some((ms) => ms >= 3_000)).toBe(true);
  });

  it('send an event once when the dispatcher dies between starting its deliveries and marking the event dispatched', async () => {
    const hook = await connection('slack-nodes', 'slack', {}, chat.url('/hooks/nodes'));
    await rule('refusals to slack', ['trigger.refused'], hook);
    crashNextDispatch = true;
    await api.services.notificationEvents.emit({ kind: 'trigger.refused', environment: 'dev', payload: { subject: 'alertmanager', reason: 'bad signature' }, dedupKey: 'trigger:test:1' });
    // A second report of the same event is stored once.
    await api.services.notificationEvents.emit({ kind: 'trigger.refused', environment: 'dev', payload: { subject: 'alertmanager', reason: 'bad signature' }, dedupKey: 'trigger:test:1' });

    await expect
      .poll(async () => (await pool.query(`SELECT dispatched_at FROM notification_events WHERE dedup_key = 'trigger:test:1'`)).rows[0]?.dispatched_at ?? null, { timeout: 30_000 })
      .not.toBeNull();
    expect(crashes).toBe(1);
    await expect.poll(() => chat.to('/hooks/nodes').length, { timeout: 30_000 }).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(chat.to('/hooks/nodes').length).toBe(1);
    expect(JSON.parse(chat.to('/hooks/nodes')[0]!.body).text).toContain('Trigger refused: alertmanager in dev');
  });

  it('report a node going unreachable and coming back, once each', async () => {
    const { node } = await api.services.nodes.createEnrollment({ environment: 'dev', name: 'edge-1', labels: {} }, 60_000);
    const health = { load: [0, 0, 0], cpus: 1, memoryFreeBytes: 1, memoryTotalBytes: 2, disks: [], uptimeSeconds: 1, collectedAt: new Date().toISOString() };
    await api.services.nodes.recordHealth(node.id, health);
    await api.services.nodes.markUnreachable(node.id, 'no answer');
    await api.services.nodes.markUnreachable(node.id, 'no answer');
    await api.services.nodes.recordHealth(node.id, health);
    await api.services.nodes.recordHealth(node.id, health);
    const { rows } = await pool.query(`SELECT kind, payload FROM notification_events WHERE kind LIKE 'node.%' ORDER BY created_at`);
    expect(rows).toEqual([
      { kind: 'node.unreachable', payload: { node: { id: node.id, name: 'edge-1', reason: 'no answer' } } },
      { kind: 'node.back', payload: { node: { id: node.id, name: 'edge-1' } } },
    ]);
  });

  it('send a test through a rule, in the language of the rule, signed for a generic webhook', async () => {
    const hook = await connection('signed', 'webhook', { url: chat.url('/hooks/signed') }, 'signing-secret');
    const id = await rule('signed webhook', ['run.failed'], hook, { locale: 'pt-BR' });
    const sent = await call('ada', 'POST', `/notifications/rules/${id}/test`);
    expect(sent.status).toBe(202);
    await expect.poll(() => chat.to('/hooks/signed').length, { timeout: 30_000 }).toBe(1);
    const [post] = chat.to('/hooks/signed');
    expect(post!.headers['x-jarvis-signature']).toBe(signWebhook('signing-secret', post!.headers['x-jarvis-timestamp'] as string, post!.body));
    expect(JSON.parse(post!.body)).toMatchObject({ kind: 'run.failed', subject: expect.stringMatching(/^\[teste\] Execução falhou/) });
    // A viewer may not test (or see) another's rules.
    expect((await call('vera', 'POST', `/notifications/rules/${id}/test`)).status).toBe(403);
  });

  it('refuse a channel whose settings are wrong, and let users choose their language', async () => {
    const refused = await call('ada', 'POST', '/connections', { environment: 'dev', name: 'bad-mail', type: 'smtp', config: { port: 25 } });
    expect(refused.status).toBe(400);
    expect((await call('vera', 'PUT', '/notifications/locale', { locale: 'pt-BR' })).body).toEqual({ locale: 'pt-BR' });
    expect((await call('vera', 'GET', '/notifications/locale')).body).toEqual({ locale: 'pt-BR' });
  });
});
