// Idempotent starts across a crash: the API is killed (a crash point in the
// run service) after Temporal started the workflow and before the key was
// recorded or the client answered; the client's retry, served by another API
// process on the same database and Temporal, gets the one run.
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadEnv } from '../config/env.js';
import { idempotencyToken } from '../runs/run-ids.js';
import { openWorkerStores } from '../temporal/worker-stores.js';
import { RUNBOOK_ATTRIBUTE } from '../workflows/search-attributes.js';
import { buildApiForTests, createMigratedDatabase } from './control-plane.js';
import { startWorker, testDataConverter, uniqueTaskQueue, writeManifests } from './harness.js';
import { sleep, waitFor } from './wait.js';

const held = `
name: held
title: Waits for an approval
environments: [dev]
inputs: { type: object, properties: { target: { type: string } }, required: [target] }
steps:
  - id: gate
    approval: { role: approver }
`;

const heldKeyed = `
name: held-keyed
title: Waits for an approval, one run per target
environments: [dev]
concurrencyKey: \${{ inputs.target }}
inputs: { type: object, properties: { target: { type: string } }, required: [target] }
steps:
  - id: gate
    approval: { role: approver }
`;

const PASSWORD = 'correct horse battery staple';

type Api = Awaited<ReturnType<typeof buildApiForTests>>;
let database: Awaited<ReturnType<typeof createMigratedDatabase>>;
let stores: ReturnType<typeof openWorkerStores>;
let worker: Awaited<ReturnType<typeof startWorker>>;
let connection: Connection;
let temporal: Client;
let taskQueue: string;
/** Dies right after Temporal started the workflow: no key row, no answer. */
let crashing: Api;
/** The API as it comes back up. */
let restarted: Api;
let token: string;
let aliceId: string;

beforeAll(async () => {
  database = await createMigratedDatabase();
  taskQueue = uniqueTaskQueue('idempotent');
  stores = openWorkerStores(database.url, loadEnv());
  worker = await startWorker(taskQueue, undefined, stores);
  connection = await Connection.connect({ address: inject('temporalAddress') });
  temporal = new Client({ connection, dataConverter: testDataConverter() });
  const runbooks = writeManifests({ held, 'held-keyed': heldKeyed });
  crashing = await buildApiForTests(database, runbooks, taskQueue, temporal, {
    runHooks: {
      afterWorkflowStart: () => {
        throw new Error('the API was killed after the workflow started');
      },
    },
  });
  restarted = await buildApiForTests(database, runbooks, taskQueue, temporal);
  const alice = await restarted.services.users.createUser({ email: 'alice@example.org', name: 'alice', password: PASSWORD });
  await restarted.services.users.grant(alice.id, 'dev', 'operator');
  aliceId = alice.id;
  await Promise.all([crashing.app.ready(), restarted.app.ready()]);
  const login = await restarted.app.inject({ method: 'POST', url: '/auth/login', payload: { email: 'alice@example.org', password: PASSWORD } });
  token = login.json().accessToken as string;
}, 120_000);

afterAll(async () => {
  for await (const execution of temporal.workflow.list({ query: `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'` })) {
    await temporal.workflow.getHandle(execution.workflowId, execution.runId).terminate('test over');
  }
  for (const api of [crashing, restarted]) {
    await api?.app.close();
    await api?.services.close();
  }
  await worker?.stop();
  await stores?.close();
  await connection?.close();
  await database?.drop();
});

function execute(api: Api, runbook: string, target: string, key?: string) {
  return api.app.inject({
    method: 'POST',
    url: `/runbooks/${runbook}/execute`,
    headers: { authorization: `Bearer ${token}`, ...(key ? { 'idempotency-key': key } : {}) },
    payload: { environment: 'dev', inputs: { target } },
  });
}

/** Every execution this suite's task queue holds for `runbook` (visibility lags: waits for at least one, then a moment more). */
async function executionsOf(runbook: string): Promise<string[]> {
  const query = `TaskQueue = '${taskQueue}' AND ${RUNBOOK_ATTRIBUTE.name} = '${runbook}'`;
  const list = async () => {
    const ids: string[] = [];
    for await (const execution of temporal.workflow.list({ query })) ids.push(`${execution.workflowId}/${execution.runId}`);
    return ids;
  };
  await waitFor(async () => (await list()).length > 0, { message: `an execution of ${runbook} to be listed`, timeoutMs: 5_000 });
  await sleep(1_000);
  return list();
}

describe('a start with an Idempotency-Key', () => {
  it('answers the one run when the API died between starting the workflow and answering, and no second workflow exists', async () => {
    const killed = await execute(crashing, 'held', 'web-1', 'deploy-1');
    expect(killed.statusCode).toBe(500);
    expect(await database.prisma.idempotencyKey.count()).toBe(0);

    const retried = await execute(restarted, 'held', 'web-1', 'deploy-1');
    expect(retried.statusCode).toBe(200);
    const { id, runId } = retried.json();
    expect(id).toMatch(/^held@dev\.[0-9a-f]{32}$/);
    const again = await execute(restarted, 'held', 'web-1', 'deploy-1');
    expect(again.statusCode).toBe(200);
    expect(again.json().id).toBe(id);
    expect(await database.prisma.idempotencyKey.findMany({ select: { key: true, runId: true } })).toEqual([{ key: 'deploy-1', runId: id }]);

    expect(await executionsOf('held')).toEqual([`${id}/${runId}`]);
  });

  it('answers the one run of a concurrency-keyed runbook after such a crash, and still refuses another start on its key', async () => {
    const killed = await execute(crashing, 'held-keyed', 'web-2', 'deploy-2');
    expect(killed.statusCode).toBe(500);

    const retried = await execute(restarted, 'held-keyed', 'web-2', 'deploy-2');
    expect(retried.statusCode).toBe(200);
    const { id, runId } = retried.json();
    expect(id).toBe('held-keyed@dev:web-2');
    const otherKey = await execute(restarted, 'held-keyed', 'web-2', 'deploy-2-bis');
    expect(otherKey.statusCode).toBe(409);
    expect(otherKey.json().detail).toContain('already running for concurrency key "web-2"');
    expect((await execute(restarted, 'held-keyed', 'web-2')).statusCode).toBe(409);

    expect((await executionsOf('held-keyed')).filter((execution) => execution.startsWith(`${id}/`))).toEqual([`${id}/${runId}`]);
    // The token rides in the run's memo, encrypted under its environment's key: lists leave it out instead of failing on it.
    const listed = await restarted.app.inject({ method: 'GET', url: '/runs?runbook=held-keyed', headers: { authorization: `Bearer ${token}` } });
    expect(listed.statusCode, listed.body).toBe(200);
    expect(listed.json().map((run: { id: string }) => run.id)).toContain(id);
  });

  it('answers the one run even when it ended before the retry came', async () => {
    const killedPlain = await execute(crashing, 'held', 'web-3', 'deploy-3');
    const killedKeyed = await execute(crashing, 'held-keyed', 'web-3', 'deploy-3-keyed');
    expect([killedPlain.statusCode, killedKeyed.statusCode]).toEqual([500, 500]);
    const plainId = `held@dev.${idempotencyToken(aliceId, 'deploy-3')}`;
    for (const id of [plainId, 'held-keyed@dev:web-3']) await temporal.workflow.getHandle(id).terminate('ended before the retry');

    const plain = await execute(restarted, 'held', 'web-3', 'deploy-3');
    const keyed = await execute(restarted, 'held-keyed', 'web-3', 'deploy-3-keyed');
    expect([plain.statusCode, keyed.statusCode]).toEqual([200, 200]);
    expect([plain.json().id, keyed.json().id]).toEqual([plainId, 'held-keyed@dev:web-3']);
    expect((await executionsOf('held')).filter((execution) => execution.startsWith(`${plainId}/`))).toHaveLength(1);
    expect((await executionsOf('held-keyed')).filter((execution) => execution.startsWith('held-keyed@dev:web-3/'))).toHaveLength(1);
  });

  it('starts one run when two requests with the same key race', async () => {
    const answers = await Promise.all([execute(restarted, 'held', 'web-4', 'deploy-4'), execute(restarted, 'held', 'web-4', 'deploy-4')]);
    expect(answers.map((answer) => answer.statusCode).sort()).toEqual([200, 201]);
    const [first, second] = answers.map((answer) => answer.json().id as string);
    expect(second).toBe(first);
    expect((await executionsOf('held')).filter((execution) => execution.startsWith(`${first}/`))).toHaveLength(1);
  });

  it('answers the one re-run when the API died between starting it and answering', async () => {
    const original = await execute(restarted, 'held', 'web-5');
    const { id } = original.json();
    const rerun = (api: Api) => api.app.inject({ method: 'POST', url: `/runs/${id}/rerun`, headers: { authorization: `Bearer ${token}`, 'idempotency-key': 'rerun-5' } });
    expect((await rerun(crashing)).statusCode).toBe(500);
    const retried = await rerun(restarted);
    expect(retried.statusCode, retried.body).toBe(200);
    const again = await rerun(restarted);
    expect(again.json().id).toBe(retried.json().id);
    expect(retried.json().id).not.toBe(id);
    const reruns = (await executionsOf('held')).filter((execution) => execution.startsWith(`${retried.json().id}/`));
    expect(reruns).toEqual([`${retried.json().id}/${retried.json().runId}`]);
    const fresh = await restarted.app.inject({ method: 'POST', url: `/runs/${id}/rerun`, headers: { authorization: `Bearer ${token}` } });
    expect(fresh.statusCode).toBe(201);
    expect(fresh.json().id).not.toBe(retried.json().id);
  });
});
