// The attacks on what stands behind the API, replayed as an attacker would:
// an operator whose inputs reach Ansible and the worker's processes, and
// someone who reaches Temporal's port (or holds an agent's payload key) and
// starts runs or decides approvals there, without the API.
import { Client, Connection, WorkflowUpdateFailedError } from '@temporalio/client';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { loadEnv } from '../config/env.js';
import { SECRET_KEY_FILE } from '../security/secret-key.js';
import type { RunInput } from '../manifest/types.js';
import { INTERPRETER_WORKFLOW } from '../runs/run-contract.js';
import { runAuthorityOf } from '../security/run-authority.js';
import { EncryptionCodec, installationKeyRing } from '../temporal/payload-codec.js';
import { AgentKeyRing, type AgentKey } from '../temporal/payload-keys.js';
import { PayloadKeyGenerations } from '../security/payload-key-generations.js';
import pg from 'pg';
import { ENVIRONMENT_ATTRIBUTE } from '../workflows/search-attributes.js';
import { approveStepUpdate, RUN_REFUSED, type RunProgress } from '../workflows/messages.js';
import { startApiForTests } from './api-harness.js';
import { scratchDir, testDataConverter, writeManifests } from './harness.js';
import { waitFor } from './wait.js';

const gated = `
name: gated
title: Waits for an approval, then touches a marker
environments: [dev, prod]
requiredRole: operator
inputs:
  type: object
  properties:
    marker: { type: string }
  required: [marker]
steps:
  - id: gate
    approval: { role: approver }
  - id: touch
    action: shell.run
    with: { command: touch, args: ["\${{ inputs.marker }}"] }
`;

const probe = `
name: probe
title: Shows what an action process can see
environments: [dev]
requiredRole: operator
steps:
  - id: look
    action: shell.run
    with:
      command: 'id -u; if cat "$1" >/dev/null 2>&1; then echo KEY-READABLE; else echo KEY-UNREADABLE; fi; env'
      shell: true
      args: ["\${{ run.environment }}"]
`;

const keyed = `
name: keyed
title: One run per target at a time
environments: [dev, prod]
requiredRole: operator
concurrencyKey: \${{ inputs.target }}
inputs:
  type: object
  properties:
    target: { type: string }
  required: [target]
steps:
  - id: gate
    approval: { role: approver }
`;

const slow = `
name: slow
title: Sleeps
environments: [dev, prod]
requiredRole: operator
steps:
  - id: nap
    sleep: 10m
`;

const PASSWORD = 'correct horse battery staple';
const env = loadEnv();
const keyFile = path.join(env.dataDir, SECRET_KEY_FILE);
let api: Awaited<ReturnType<typeof startApiForTests>>;
let attacker: Client;
let attackerConnection: Connection;

async function resultOf(id: string): Promise<{ status: string; error?: string; type?: string }> {
  try {
    await api.temporal.workflow.getHandle(id).result();
    return { status: 'succeeded' };
  } catch (error) {
    const cause = (error as { cause?: { message?: string; type?: string } }).cause;
    return { status: 'failed', ...(cause?.message ? { error: cause.message } : {}), ...(cause?.type ? { type: cause.type } : {}) };
  }
}

async function waitForApproval(id: string): Promise<void> {
  for (let tries = 0; tries < 200; tries += 1) {
    const progress = await api.temporal.workflow.getHandle(id).query<RunProgress>('progress').catch(() => undefined);
    if (progress?.steps[0]?.status === 'waiting') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`run ${id} never waited for its approval`);
}

async function stepLines(id: string, stepId: string): Promise<string[]> {
  return (await api.services.logStore.linesAfter(id, 0)).filter((line) => line.stepId === stepId && line.stream !== 'system').map((line) => line.text);
}

async function auditEntries(action: string, targetId: string) {
  return api.prisma.auditEntry.findMany({ where: { action, targetId } });
}

beforeAll(async () => {
  const ansiblePing = readFileSync(path.join(env.runbooksDir, 'ansible-ping.yaml'), 'utf8');
  api = await startApiForTests(writeManifests({ gated, keyed, slow, probe, 'ansible-ping': ansiblePing }), [
    { email: 'dev-operator@example.org', password: PASSWORD, grants: [['dev', 'operator']] },
    { email: 'dev-admin@example.org', password: PASSWORD, grants: [['dev', 'admin']] },
    { email: 'prod-admin@example.org', password: PASSWORD, grants: [['prod', 'admin']] },
  ]);
  // Someone with Temporal's port and the installation's payload key (as an agent holds it), but not the API's signing key.
  attackerConnection = await Connection.connect({ address: inject('temporalAddress') });
  attacker = new Client({ connection: attackerConnection, dataConverter: testDataConverter() });
});

afterAll(async () => {
  await attackerConnection?.close();
  await api?.stop();
});

describe('actions never see the control plane', () => {
  it("runs an action's process without the worker's secrets: no key file, no database URL, no tokens", async () => {
    const canaries = { DATABASE_URL: 'postgresql://jarvis:canary-password@127.0.0.1/jarvis', JARVIS_API_TOKEN: 'jat_canary_token_value', JARVIS_SECRET_KEY_CANARY: 'canary' };
    Object.assign(process.env, canaries);
    try {
      const { id } = await api.services.runs.startRun({ runbook: 'probe', inputs: {}, environment: 'dev', startedBy: 'operator@example.org' });
      expect(await resultOf(id)).toEqual({ status: 'succeeded' });
      const lines = await stepLines(id, 'look');
      const seen = lines.join('\n');
      for (const value of Object.values(canaries)) expect(seen).not.toContain(value);
      expect(seen).not.toMatch(/^(DATABASE_URL|JARVIS_[A-Z_]+|TEMPORAL_[A-Z_]+|OPENAI_API_KEY)=/m);
      if (process.getuid?.() === 0) {
        // The worker runs as root: its actions run as another user, who cannot read the secret key.
        expect(lines[0]).not.toBe('0');
        expect(existsSync(keyFile) ? seen : 'KEY-UNREADABLE').toContain('KEY-UNREADABLE');
      }
    } finally {
      for (const name of Object.keys(canaries)) delete process.env[name];
    }
  });

  it('passes Jinja typed into an input to Ansible as text: it is never evaluated', async () => {
    const attack = `{{ lookup('pipe', 'id; cat ${keyFile}') }}`;
    const { id } = await api.services.runs.startRun({ runbook: 'ansible-ping', inputs: { greeting: attack }, environment: 'dev', startedBy: 'operator@example.org' });
    expect(await resultOf(id)).toEqual({ status: 'succeeded' });
    const seen = (await stepLines(id, 'ping')).join('\n');
    expect(seen).toContain(`"msg": "{{ lookup('pipe', 'id; cat ${keyFile}') }}"`);
    expect(seen).not.toMatch(/uid=\d+/);
  });
});

describe('Temporal is not trusted for identity', () => {
  it('refuses a run started directly through Temporal: no step runs, and the refusal is audited', async () => {
    const marker = path.join(scratchDir(), 'direct-start');
    const compiled = api.services.runs.compileRunbook('gated');
    // A NUL (which PostgreSQL text cannot hold) must not make the refusal unauditable.
    const input: RunInput = { runbook: compiled.runbook, children: compiled.children, inputs: { marker }, environment: 'prod', startedBy: 'admin@example.org\u0000' };
    const id = `gated-direct-${Date.now().toString(36)}`;
    await attacker.workflow.start(INTERPRETER_WORKFLOW, { taskQueue: api.taskQueue, workflowId: id, args: [input] });
    const outcome = await resultOf(id);
    expect(outcome.type).toBe(RUN_REFUSED);
    expect(outcome.error).toContain('not started through Jarvis');
    expect(existsSync(marker)).toBe(false);
    expect(await auditEntries('run.start.refused', id)).toMatchObject([{ outcome: 'denied', actorEmail: 'admin@example.org\uFFFD' }]);
  });

  it("refuses a run started with another run's signature", async () => {
    const marker = path.join(scratchDir(), 'copied-signature');
    const { id: genuine } = await api.services.runs.startRun({ runbook: 'gated', inputs: { marker }, environment: 'dev', startedBy: 'operator@example.org' });
    const history = await api.temporal.workflow.getHandle(genuine).fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    const signed = (await testDataConverter().payloadCodecs![0]!.decode([started!]))[0]!;
    const original = JSON.parse(Buffer.from(signed.data!).toString()) as RunInput;
    // The same signed input, now in prod and under another id.
    const id = `gated-copied-${Date.now().toString(36)}`;
    await attacker.workflow.start(INTERPRETER_WORKFLOW, { taskQueue: api.taskQueue, workflowId: id, args: [{ ...original, environment: 'prod' }] });
    const outcome = await resultOf(id);
    expect(outcome.type).toBe(RUN_REFUSED);
    expect(outcome.error).toContain('signature does not match');
    await api.temporal.workflow.getHandle(genuine).cancel();
  });

  it('refuses an approval sent directly through Temporal with a self-declared identity: the run ends refused, nothing runs', async () => {
    const marker = path.join(scratchDir(), 'forged-approval');
    const { id } = await api.services.runs.startRun({ runbook: 'gated', inputs: { marker }, environment: 'prod', startedBy: 'operator@example.org' });
    await waitForApproval(id);
    const forged = attacker.workflow.getHandle(id).executeUpdate(approveStepUpdate, { args: [{ stepId: 'gate', user: 'mallory@example.org', roles: ['admin'] }] });
    await expect(forged).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
    const outcome = await resultOf(id);
    expect(outcome.type).toBe(RUN_REFUSED);
    expect(outcome.error).toContain('mallory@example.org');
    expect(existsSync(marker)).toBe(false);
    expect(await auditEntries('run.approve.refused', id)).toMatchObject([{ outcome: 'denied', actorEmail: 'mallory@example.org' }]);
  });

  it("refuses an approval carrying a signature made for another run's step", async () => {
    const marker = path.join(scratchDir(), 'replayed-approval');
    const { id: other } = await api.services.runs.startRun({ runbook: 'gated', inputs: { marker: `${marker}-other` }, environment: 'dev', startedBy: 'operator@example.org' });
    const { id } = await api.services.runs.startRun({ runbook: 'gated', inputs: { marker }, environment: 'prod', startedBy: 'operator@example.org' });
    await Promise.all([waitForApproval(other), waitForApproval(id)]);
    // A genuine approval of the dev run, decoded from its history and replayed on the prod run.
    await api.services.runs.approveStep(other, 'gate', 'approver@example.org', ['approver']);
    const events = (await api.temporal.workflow.getHandle(other).fetchHistory()).events ?? [];
    const accepted = events.find((event) => event.workflowExecutionUpdateAcceptedEventAttributes)?.workflowExecutionUpdateAcceptedEventAttributes;
    const payload = (await testDataConverter().payloadCodecs![0]!.decode([accepted!.acceptedRequest!.input!.args!.payloads![0]!]))[0]!;
    const genuine = JSON.parse(Buffer.from(payload.data!).toString());
    await expect(attacker.workflow.getHandle(id).executeUpdate(approveStepUpdate, { args: [genuine] })).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
    expect((await resultOf(id)).type).toBe(RUN_REFUSED);
    expect(existsSync(marker)).toBe(false);
    expect(await resultOf(other)).toEqual({ status: 'succeeded' });
  });

  it('still runs a run started and approved through the API', async () => {
    const marker = path.join(scratchDir(), 'genuine');
    const { id } = await api.services.runs.startRun({ runbook: 'gated', inputs: { marker }, environment: 'prod', startedBy: 'operator@example.org' });
    await waitForApproval(id);
    await api.services.runs.approveStep(id, 'gate', 'approver@example.org', ['approver']);
    expect(await resultOf(id)).toEqual({ status: 'succeeded' });
    expect(existsSync(marker)).toBe(true);
  });
});

describe('the payload codec', () => {
  it('refuses a run whose input is not encrypted: the worker never decodes it, so nothing runs', async () => {
    const marker = path.join(scratchDir(), 'plaintext-start');
    const compiled = api.services.runs.compileRunbook('gated');
    const plain = new Client({ connection: attackerConnection });
    const id = `gated-plain-${Date.now().toString(36)}`;
    const handle = await plain.workflow.start(INTERPRETER_WORKFLOW, {
      taskQueue: api.taskQueue,
      workflowId: id,
      args: [{ runbook: compiled.runbook, children: compiled.children, inputs: { marker }, environment: 'prod', startedBy: 'admin@example.org' } satisfies RunInput],
    });
    const events = await waitFor(
      async () => {
        const history = (await handle.fetchHistory()).events;
        return history?.some((event) => event.workflowTaskFailedEventAttributes) && history;
      },
      { message: `a failed workflow task in the history of ${id}`, timeoutMs: 10_000 },
    );
    const failed = events?.find((event) => event.workflowTaskFailedEventAttributes)?.workflowTaskFailedEventAttributes;
    expect(failed?.failure?.message).toContain('not encrypted');
    expect(events?.some((event) => event.activityTaskScheduledEventAttributes || event.markerRecordedEventAttributes)).toBe(false);
    expect(existsSync(marker)).toBe(false);
    await handle.terminate('test: a refused start');
  });
});

describe('run ids cannot cross environments', () => {
  it('gives concurrency-keyed runs of two environments two ids', async () => {
    const dev = await api.services.runs.startRun({ runbook: 'keyed', inputs: { target: 'web-1' }, environment: 'dev', startedBy: 'operator@example.org' });
    const prod = await api.services.runs.startRun({ runbook: 'keyed', inputs: { target: 'web-1' }, environment: 'prod', startedBy: 'operator@example.org' });
    expect([dev.id, prod.id]).toEqual(['keyed@dev:web-1', 'keyed@prod:web-1']);
    await Promise.all([dev, prod].map(({ id }) => api.temporal.workflow.getHandle(id).cancel()));
  });

  it("reads and cancels only the execution it authorized when a run id's newer execution is in another environment", async () => {
    // A dev run that ended (its projection row says dev), then a prod run under the same id (ids before environments were part of keyed ids).
    const id = `reused-${Date.now().toString(36)}`;
    const startIn = async (runbook: string, environment: string, inputs: Record<string, unknown>) => {
      const compiled = api.services.runs.compileRunbook(runbook);
      const input: RunInput = { runbook: compiled.runbook, children: compiled.children, inputs, environment, startedBy: 'operator@example.org' };
      input.authorization = runAuthorityOf(env).signStart(id, input);
      return api.temporal.workflow.start(INTERPRETER_WORKFLOW, {
        taskQueue: api.taskQueue,
        workflowId: id,
        args: [input],
        typedSearchAttributes: [{ key: ENVIRONMENT_ATTRIBUTE, value: environment }],
      });
    };
    const devRun = await startIn('gated', 'dev', { marker: path.join(scratchDir(), 'dev') });
    await waitForApproval(id);
    await devRun.cancel();
    await resultOf(id);
    await until(async () => (await api.services.runs.locateRun(id)).executionId === devRun.firstExecutionRunId);
    const prodRun = await startIn('slow', 'prod', {});
    // Runs publish their projection as they start: put the dev execution's row back, as it stands while that first write is under way.
    await until(async () => (await api.services.runs.locateRun(id)).executionId === prodRun.firstExecutionRunId);
    await api.prisma.$executeRawUnsafe(`UPDATE run_summaries SET execution_id = $2, environment = 'dev' WHERE workflow_id = $1`, id, devRun.firstExecutionRunId);

    const token = await api.logIn('dev-operator@example.org', PASSWORD);
    const headers = { authorization: `Bearer ${token}` };
    const cancel = await api.app.inject({ method: 'POST', url: `/runs/${id}/cancel`, headers });
    expect(cancel.statusCode).toBe(409);
    expect((await prodRun.describe()).status.name).toBe('RUNNING');
    const history = await api.app.inject({ method: 'GET', url: `/runs/${id}/history`, headers });
    expect(history.statusCode).toBe(200);
    expect(history.json().events[0].workflowExecutionStartedEventAttributes.originalExecutionRunId).toBe(devRun.firstExecutionRunId);
    await prodRun.cancel();
  });
});

async function until(probe: () => Promise<boolean>): Promise<void> {
  for (let tries = 0; tries < 200; tries += 1) {
    if (await probe().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the condition never held');
}

describe('keys per environment', () => {
  it("encrypts a run's payloads with its environment's key: another environment's admin or agent cannot decode them", async () => {
    const marker = path.join(scratchDir(), 'keys');
    const { id } = await api.services.runs.startRun({ runbook: 'gated', inputs: { marker }, environment: 'prod', startedBy: 'operator@example.org' });
    await waitForApproval(id);
    const started = (await api.temporal.workflow.getHandle(id).fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    const payload = { metadata: Object.fromEntries(Object.entries(started!.metadata!).map(([key, value]) => [key, Buffer.from(value).toString('base64')])), data: Buffer.from(started!.data!).toString('base64') };
    expect(Buffer.from(payload.metadata['encryption-key-id']!, 'base64').toString()).toMatch(/^prod\//);

    // An admin of dev only gets the prod payload back as it was: encrypted.
    const devAdmin = await api.logIn('dev-admin@example.org', PASSWORD);
    const asDevAdmin = await api.app.inject({ method: 'POST', url: '/codec/decode', headers: { authorization: `Bearer ${devAdmin}` }, payload: { payloads: [payload] } });
    expect(asDevAdmin.statusCode).toBe(200);
    expect(asDevAdmin.json().payloads[0]).toEqual(payload);
    const prodAdmin = await api.logIn('prod-admin@example.org', PASSWORD);
    const asProdAdmin = await api.app.inject({ method: 'POST', url: '/codec/decode', headers: { authorization: `Bearer ${prodAdmin}` }, payload: { payloads: [payload] } });
    expect(JSON.parse(Buffer.from(asProdAdmin.json().payloads[0].data, 'base64').toString())).toMatchObject({ environment: 'prod', inputs: { marker } });

    // An agent of dev holds the dev key alone.
    const ring = installationKeyRing(env);
    const devAgent = new EncryptionCodec(new AgentKeyRing({ environment: 'dev', key: ring.environmentKey('dev').key }));
    await expect(devAgent.decode([started as never])).rejects.toThrow(/which this process does not hold/);
    const prodAgent = new EncryptionCodec(new AgentKeyRing({ environment: 'prod', key: ring.environmentKey('prod').key }));
    expect(JSON.parse(Buffer.from((await prodAgent.decode([started as never]))[0]!.data!).toString())).toMatchObject({ environment: 'prod' });
    await api.temporal.workflow.getHandle(id).cancel();
  });

  it("rotates an environment's key when a node that held it is removed: its agent cannot read what follows, the others fetch the new key", async () => {
    type Enrolled = { node: { id: string }; codecKey: string; codecKeyGeneration: number; credential: string };
    const askAsAgent = async (bearer: string): Promise<AgentKey & { answer: Enrolled }> => {
      const response = await api.app.inject({ method: 'POST', url: '/agents/enroll', headers: { authorization: `Bearer ${bearer}` } });
      if (response.statusCode !== 200) throw new Error(`${response.statusCode} ${response.body}`);
      const answer = response.json() as Enrolled;
      return { environment: 'dev', key: Buffer.from(answer.codecKey, 'base64'), generation: answer.codecKeyGeneration, answer };
    };
    const enroll = async (name: string) => askAsAgent((await api.services.nodes.createEnrollment({ environment: 'dev', name, labels: {} }, 60_000)).token);
    const [keeper, leaver] = [await enroll('keeper'), await enroll('leaver')];
    expect(keeper.key.equals(leaver.key)).toBe(true);
    const agentCodec = (enrolled: typeof keeper) => new EncryptionCodec(new AgentKeyRing(enrolled, () => askAsAgent(enrolled.answer.credential)));

    const devAdmin = await api.logIn('dev-admin@example.org', PASSWORD);
    const removal = await api.app.inject({ method: 'DELETE', url: `/nodes/${leaver.answer.node.id}`, headers: { authorization: `Bearer ${devAdmin}` } });
    expect(removal.statusCode).toBe(204);
    expect(await api.prisma.auditEntry.findFirst({ where: { action: { contains: 'nodes' }, targetId: leaver.answer.node.id, outcome: 'success' } })).toMatchObject({ details: expect.objectContaining({ rotatedPayloadKeyOf: 'dev' }) });

    // What a worker writes next for a step of a dev run on a node: the key's next generation.
    const pool = new pg.Pool({ connectionString: api.databaseUrl, max: 1 });
    try {
      const worker = new EncryptionCodec(installationKeyRing(env, new PayloadKeyGenerations(pool)));
      const clear = { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('{"container":"web"}') };
      const [written] = await worker.encode([clear], { type: 'activity', namespace: 'default', workflowId: 'deploy@dev.rotation', activityId: 'step:restart', isLocal: false });
      expect(Buffer.from(written!.metadata!['encryption-key-id']!).toString()).toMatch(new RegExp(`^dev/${leaver.generation! + 1}/`));
      // The removed node's agent has the old key and no credential to fetch the new one.
      await expect(agentCodec(leaver).decode([written!])).rejects.toThrow(/does not hold/);
      // The other agent fetches it with its own credential and reads on.
      const [read] = await agentCodec(keeper).decode([written!]);
      expect(Buffer.from(read!.data!).toString()).toBe('{"container":"web"}');
    } finally {
      await pool.end();
    }
  });
});
