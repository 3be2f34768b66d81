// The run-summary projection: written by each run's workflow, read by the API
// instead of Temporal, rebuilt from Temporal when missing, replaced by a
// resumed run's new execution; and the step timeline built from history.
import { Client, Connection } from '@temporalio/client';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionCatalog } from '../activities/catalog.js';
import { RunbookCatalog } from '../manifest/catalog.js';
import { loadEnv } from '../config/env.js';
import { RunService } from '../runs/run-service.js';
import { runAuthorityOf } from '../security/run-authority.js';
import { RunSummaryStore } from '../runs/run-summary-store.js';
import { startApiForTests } from './api-harness.js';
import { FLAKY_STEP, GATED_RUNBOOK, resumableRunbook } from './files.js';
import { scratchDir, testDataConverter, writeManifests } from './harness.js';

const PASSWORD = 'projection password 1';
const work = scratchDir();
const manifests = {
  flaky: `
name: flaky
title: Fails twice, then succeeds
inputs: { type: object, properties: { counter: { type: string } }, required: [counter] }
steps:
  - id: prepare
    action: core.noop${FLAKY_STEP}
`,
  secretive: `
name: secretive
title: Prints a secret input
inputs: { type: object, properties: { token: { type: string, format: password } }, required: [token] }
steps:
  - id: show
    action: shell.run
    with: { command: 'echo "token is $1"', shell: true, args: ["\${{ inputs.token }}"] }
`,
  quick: `
name: quick
title: One step that does nothing
steps:
  - id: only
    action: core.noop
`,
  gated: GATED_RUNBOOK,
  resumable: resumableRunbook('resumable'),
};

let api: Awaited<ReturnType<typeof startApiForTests>>;
let token: string;

beforeAll(async () => {
  api = await startApiForTests(writeManifests(manifests), [
    { email: 'olga@example.org', password: PASSWORD, grants: [['dev', 'operator'], ['dev', 'approver']] },
    { email: 'pablo@example.org', password: PASSWORD, grants: [['dev', 'approver']] },
  ]);
  token = await api.logIn('olga@example.org', PASSWORD);
}, 120_000);

afterAll(async () => api?.stop());

const get = async (url: string) => {
  const response = await api.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
};

async function runToEnd(runbook: string, inputs: Record<string, unknown>) {
  const { id } = await api.services.runs.startRun({ runbook, inputs, environment: 'dev', startedBy: 'olga@example.org' });
  await api.temporal.workflow.getHandle(id).result().catch(() => undefined);
  return id;
}

async function storedRow(id: string) {
  const rows = await api.prisma.$queryRawUnsafe<Array<{ execution_id: string; status: string; steps: number }>>(
    'SELECT execution_id, status, (SELECT count(*)::int FROM run_summary_steps WHERE workflow_id = $1) AS steps FROM run_summaries WHERE workflow_id = $1',
    id,
  );
  return rows[0];
}

describe('the run-summary projection', () => {
  it('is written by the run itself, and a finished run is read from it with Temporal out of reach', async () => {
    const id = await runToEnd('flaky', { counter: path.join(work, 'flaky-counter') });
    await expect.poll(() => storedRow(id)).toMatchObject({ status: 'succeeded', steps: 2 });
    const viaApi = await get(`/runs/${id}`);
    expect(viaApi).toMatchObject({ id, status: 'COMPLETED', environment: 'dev', startedBy: 'olga@example.org', progress: { status: 'succeeded' } });
    expect(viaApi.progress.steps.map((step: { id: string; status: string; attempts: number }) => [step.id, step.status, step.attempts])).toEqual([
      ['prepare', 'succeeded', 1],
      ['flaky', 'succeeded', 3],
    ]);

    // A run service whose Temporal connection leads nowhere still answers from the projection.
    const unreachable = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }), dataConverter: testDataConverter() });
    const pool = new pg.Pool({ connectionString: api.databaseUrl });
    try {
      const offline = new RunService(unreachable, await RunbookCatalog.fromDirectory(work, actionCatalog), 'nowhere', runAuthorityOf(loadEnv()), new RunSummaryStore(pool));
      // (Any call to Temporal would fail after its connection timeout.)
      expect(await offline.showRun(id)).toEqual(viaApi);
    } finally {
      await pool.end();
    }
  });

  it('is rebuilt from Temporal when its row is missing', async () => {
    const id = await runToEnd('flaky', { counter: path.join(work, 'rebuilt-counter') });
    await expect.poll(() => storedRow(id)).toMatchObject({ status: 'succeeded' });
    const before = await get(`/runs/${id}`);
    await api.prisma.$executeRawUnsafe('DELETE FROM run_summaries WHERE workflow_id = $1', id);
    expect(await storedRow(id)).toBeUndefined();
    const after = await get(`/runs/${id}`);
    expect({ status: after.status, steps: after.progress.steps }).toEqual({ status: before.status, steps: before.progress.steps });
    expect(await storedRow(id)).toMatchObject({ status: 'succeeded', steps: 2 });
  });

  it('holds no secret input: step outputs and errors are redacted', async () => {
    const secret = 'hunter2-projection-secret';
    const id = await runToEnd('secretive', { token: secret });
    await expect.poll(() => storedRow(id)).toMatchObject({ status: 'succeeded' });
    const shown = await get(`/runs/${id}`);
    expect(shown.progress.steps[0].outputSummary).toContain('token is ***');
    const dump = await api.prisma.$queryRawUnsafe<Array<{ text: string }>>(
      `SELECT (SELECT row_to_json(s)::text FROM run_summaries s WHERE workflow_id = $1) ||
              (SELECT string_agg(data::text, '') FROM run_summary_steps WHERE workflow_id = $1) AS text`,
      id,
    );
    expect(dump[0]!.text).toContain('token is ***');
    expect(dump[0]!.text).not.toContain(secret);
    // The timeline shows step arguments and outputs, and the run's inputs, all masked.
    const timeline = JSON.stringify(await get(`/runs/${id}/timeline`));
    expect(timeline).toContain('token is ***');
    expect(timeline).not.toContain(secret);
    expect(await get(`/runs/${id}/inputs`)).toEqual({ runbook: 'secretive', version: expect.any(String), inputs: { token: '***' } });
  });

  it('follows a resumed run into its new execution', async () => {
    const flag = path.join(work, 'resume-flag');
    const id = await runToEnd('resumable', { flag });
    await expect.poll(() => storedRow(id)).toMatchObject({ status: 'failed', steps: 3 });
    expect((await get(`/runs/${id}`)).progress.steps.map((step: { status: string }) => step.status)).toEqual(['succeeded', 'failed', 'pending']);

    writeFileSync(flag, 'fixed');
    expect(existsSync(flag)).toBe(true);
    const resumed = await api.services.runs.resume(id, 'olga@example.org');
    await api.temporal.workflow.getHandle(id, resumed.runId).result();
    await expect.poll(() => storedRow(id)).toEqual({ execution_id: resumed.runId, status: 'succeeded', steps: 3 });
    const shown = await get(`/runs/${id}`);
    expect({ runId: shown.runId, status: shown.status }).toEqual({ runId: resumed.runId, status: 'COMPLETED' });
    expect(shown.progress.steps.map((step: { status: string }) => step.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });
});

describe('the step timeline', () => {
  it('shows each action step from the run history, with its attempts and the failure before the last one', async () => {
    const id = await runToEnd('flaky', { counter: path.join(work, 'timeline-counter') });
    const timeline = await get(`/runs/${id}/timeline`);
    expect(timeline.map((entry: { stepId: string; kind: string; target: string; status: string; attempts: number }) => [entry.stepId, entry.kind, entry.target, entry.status, entry.attempts])).toEqual([
      ['prepare', 'action', 'core.noop', 'succeeded', 1],
      ['flaky', 'action', 'shell.run', 'succeeded', 3],
    ]);
    const flaky = timeline[1];
    expect(flaky.failure).toMatch(/exit/i);
    expect(JSON.parse(flaky.input)).toMatchObject({ args: [path.join(work, 'timeline-counter')] });
    expect(JSON.parse(flaky.output)).toMatchObject({ exitCode: 0, stdout: 'attempt 3' });
    expect(Date.parse(flaky.lastAttemptStartedAt)).toBeGreaterThan(Date.parse(flaky.scheduledAt));
    expect(Date.parse(flaky.endedAt)).toBeGreaterThanOrEqual(Date.parse(flaky.lastAttemptStartedAt));
  });
});

describe('the run list', () => {
  it('pages with a cursor, filters by start time, and refuses a forged cursor', async () => {
    const since = new Date().toISOString();
    const ids: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      ids.push(await runToEnd('quick', {}));
    }
    const seen: string[] = [];
    let url = `/runs?runbook=quick&limit=2&startedAfter=${encodeURIComponent(since)}`;
    for (let pages = 0; pages < 5; pages += 1) {
      const response = await api.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
      expect(response.statusCode).toBe(200);
      const page = response.json() as Array<{ id: string }>;
      expect(page.length).toBeLessThanOrEqual(2);
      seen.push(...page.map((run) => run.id));
      const cursor = response.headers['x-next-cursor'];
      if (!cursor) break;
      url = `/runs?runbook=quick&limit=2&startedAfter=${encodeURIComponent(since)}&cursor=${cursor}`;
    }
    // Newest first, every run once, none started before `since`.
    expect(seen).toEqual([...ids].reverse());
    const before = await get(`/runs?runbook=quick&startedBefore=${encodeURIComponent(since)}`);
    expect(before.map((run: { id: string }) => run.id)).not.toContain(ids[0]);

    const forged = await api.app.inject({ method: 'GET', url: '/runs?cursor=bm90LWEtY3Vyc29y', headers: { authorization: `Bearer ${token}` } });
    expect(forged.statusCode).toBe(400);
    expect(forged.json().detail ?? forged.json().title).toMatch(/cursor/);
    const otherList = await api.app.inject({ method: 'GET', url: `${url.replace('runbook=quick', 'runbook=flaky')}`, headers: { authorization: `Bearer ${token}` } });
    expect(otherList.statusCode).toBe(400);
  });
});

describe('the approvals inbox and the dashboard figures', () => {
  let pabloToken: string;
  beforeAll(async () => {
    pabloToken = await api.logIn('pablo@example.org', PASSWORD);
  });
  const inbox = async (bearer: string, runId: string) =>
    ((await api.app.inject({ method: 'GET', url: '/approvals', headers: { authorization: `Bearer ${bearer}` } })).json() as Array<{ runId: string; canDecide: boolean; blockedBecause?: string; step: { id: string } }>).filter(
      (entry) => entry.runId === runId,
    );

  it('lists waiting approvals with who may decide them, and counts runs', async () => {
    // This file's database holds only its own runs: the runs counted are the ones made here.
    const today = new Date().toISOString().slice(0, 10);
    const figures = async () => {
      const stats = await get('/runs/stats?days=7');
      const day = stats.daily.find((entry: { day: string }) => entry.day === today) ?? { succeeded: 0, failed: 0 };
      return { stats, succeeded: day.succeeded as number, failed: day.failed as number };
    };
    const before = await figures();
    const succeeded = await runToEnd('quick', {});
    const failed = await runToEnd('resumable', { flag: path.join(work, 'never-made-flag') });
    const { id: rejected } = await api.services.runs.startRun({ runbook: 'gated', inputs: {}, environment: 'dev', startedBy: 'olga@example.org' });
    await expect.poll(() => inbox(pabloToken, rejected)).toHaveLength(1);
    await api.services.runs.rejectStep(rejected, 'gate', 'pablo@example.org', ['approver'], 'not now');
    await api.temporal.workflow.getHandle(rejected).result().catch(() => undefined);
    await expect.poll(() => storedRow(succeeded)).toMatchObject({ status: 'succeeded' });
    await expect.poll(() => storedRow(failed)).toMatchObject({ status: 'failed' });
    await expect.poll(() => storedRow(rejected)).toMatchObject({ status: 'rejected' });

    const { id } = await api.services.runs.startRun({ runbook: 'gated', inputs: {}, environment: 'dev', startedBy: 'olga@example.org' });
    await expect.poll(() => inbox(pabloToken, id)).toMatchObject([{ runId: id, canDecide: true, step: { id: 'gate' } }]);
    expect(await inbox(token, id)).toMatchObject([{ runId: id, canDecide: false, blockedBecause: 'starter' }]);
    const after = await figures();
    const { stats } = after;
    expect(stats.running).toBeGreaterThanOrEqual(1);
    // One run succeeded, one failed and one was rejected above.
    expect({ succeeded: after.succeeded, failed: after.failed, failedLast24h: stats.failedLast24h }).toEqual({
      succeeded: before.succeeded + 1,
      failed: before.failed + 2,
      failedLast24h: before.stats.failedLast24h + 2,
    });
    expect(stats.recentFailures.map((failure: { runId: string }) => failure.runId)).toEqual(expect.arrayContaining([failed, rejected]));

    await api.services.runs.approveStep(id, 'gate', 'pablo@example.org', ['approver']);
    await api.temporal.workflow.getHandle(id).result();
    await expect.poll(() => inbox(pabloToken, id)).toEqual([]);
  });
});
