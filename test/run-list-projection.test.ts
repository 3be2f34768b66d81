// Runs listed and shown from the run-summary projection (issue 16): every
// filter and the cursor read PostgreSQL, a running run's steps are there
// within a second of changing, and runs whose workflow could not write their
// row (terminated by Temporal, a row lost) are repaired from Temporal.
import { Client, Connection } from '@temporalio/client';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionCatalog } from '../activities/catalog.js';
import { loadEnv } from '../config/env.js';
import { RunbookCatalog } from '../manifest/catalog.js';
import { RunProjectionRepair } from '../runs/run-projection-repair.js';
import { RunService } from '../runs/run-service.js';
import { RunSummaryStore } from '../runs/run-summary-store.js';
import { runAuthorityOf } from '../security/run-authority.js';
import { startApiForTests } from './api-harness.js';
import { scratchDir, testDataConverter, writeManifests } from './harness.js';

const PASSWORD = 'projection list password 1';
const work = scratchDir();
const manifests = {
  quick: 'name: quick\ntitle: One step that does nothing\nsteps:\n  - id: only\n    action: core.noop\n',
  broken: `
name: broken
title: Fails at once
steps:
  - id: fail
    action: shell.run
    with: { command: 'exit 3', shell: true }
`,
  waiting: `
name: waiting
title: Waits for a file at its second step
inputs: { type: object, properties: { flag: { type: string } }, required: [flag] }
steps:
  - id: first
    action: core.noop
  - id: second
    action: shell.run
    with: { command: 'while [ ! -f "$1" ]; do sleep 0.2; done', shell: true, args: ["\${{ inputs.flag }}"] }
  - id: third
    action: core.noop
`,
};

let api: Awaited<ReturnType<typeof startApiForTests>>;
let olga: string;
let pablo: string;
let pool: pg.Pool;

beforeAll(async () => {
  api = await startApiForTests(writeManifests(manifests), [
    { email: 'olga@example.org', password: PASSWORD, grants: [['dev', 'operator']] },
    { email: 'pablo@example.org', password: PASSWORD, grants: [['staging', 'operator']] },
  ]);
  olga = await api.logIn('olga@example.org', PASSWORD);
  pablo = await api.logIn('pablo@example.org', PASSWORD);
  pool = new pg.Pool({ connectionString: api.databaseUrl });
}, 120_000);

afterAll(async () => {
  await pool?.end();
  await api?.stop();
});

async function list(url: string, token = olga) {
  const response = await api.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
  expect(response.statusCode, response.body).toBe(200);
  return { runs: response.json() as Array<{ id: string; status: string; runbook: string; startedBy: string; environment: string }>, cursor: response.headers['x-next-cursor'] as string | undefined };
}

async function start(runbook: string, inputs: Record<string, unknown> = {}, environment = 'dev', startedBy = 'olga@example.org') {
  return (await api.services.runs.startRun({ runbook, inputs, environment, startedBy })).id;
}

async function stored(id: string) {
  const { rows } = await pool.query<{ status: string; error: string | null; live_steps: boolean }>('SELECT status, error, live_steps FROM run_summaries WHERE workflow_id = $1', [id]);
  return rows[0];
}

/** A run service whose Temporal leads nowhere: what it answers came from PostgreSQL. */
async function offlineRuns() {
  const unreachable = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }), dataConverter: testDataConverter() });
  return new RunService(unreachable, await RunbookCatalog.fromDirectory(api.runbooksDir, actionCatalog), 'nowhere', runAuthorityOf(loadEnv()), new RunSummaryStore(pool));
}

describe('the run list from the projection', () => {
  it('answers every filter and pages with a cursor without asking Temporal, running runs included', async () => {
    const since = new Date().toISOString();
    const quick = [await start('quick'), await start('quick'), await start('quick', {}, 'dev', 'bot@example.org')];
    const broken = await start('broken');
    const flag = path.join(work, 'list-flag');
    const running = await start('waiting', { flag });
    for (const id of [...quick, broken])
      await api.temporal.workflow
        .getHandle(id)
        .result()
        .catch(() => undefined);
    await expect.poll(async () => (await stored(running))?.status).toBe('running');

    const runs = await offlineRuns();
    const mine = await runs.listRunPage({ startedAfter: since, limit: 50 });
    expect(mine.runs.map((run) => run.id).sort()).toEqual([...quick, broken, running].sort());
    expect(mine.runs.find((run) => run.id === running)).toMatchObject({ status: 'RUNNING', runbook: 'waiting', environment: 'dev', startedBy: 'olga@example.org' });
    expect((await runs.listRunPage({ startedAfter: since, status: 'failed' })).runs.map((run) => run.id)).toEqual([broken]);
    expect((await runs.listRunPage({ startedAfter: since, status: 'running' })).runs.map((run) => run.id)).toEqual([running]);
    expect((await runs.listRunPage({ startedAfter: since, runbook: 'quick', startedBy: 'bot@example.org' })).runs.map((run) => run.id)).toEqual([quick[2]]);
    expect((await runs.listRunPage({ startedAfter: since, environments: ['staging'] })).runs).toEqual([]);
    // Newest first, page by page, each run once.
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await runs.listRunPage({ startedAfter: since, limit: 2, ...(cursor ? { cursor } : {}) });
      expect(page.runs.length).toBeLessThanOrEqual(2);
      seen.push(...page.runs.map((run) => run.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(mine.runs.map((run) => run.id));
    const startTimes = mine.runs.map((run) => Date.parse(run.startedAt));
    expect(startTimes).toEqual([...startTimes].sort((a, b) => b - a));

    // Through the API: a cursor only pages the list it came from; a reader of another environment sees none of it.
    const first = await list(`/runs?limit=2&startedAfter=${encodeURIComponent(since)}`);
    expect(first.cursor).toBeTruthy();
    const mismatched = await api.app.inject({ method: 'GET', url: `/runs?limit=2&runbook=quick&cursor=${first.cursor}`, headers: { authorization: `Bearer ${olga}` } });
    expect(mismatched.statusCode).toBe(400);
    expect(mismatched.json().detail).toMatch(/cursor does not belong to this list/);
    expect((await list(`/runs?startedAfter=${encodeURIComponent(since)}`, pablo)).runs).toEqual([]);
    writeFileSync(flag, 'go');
    await api.temporal.workflow.getHandle(running).result();
  });

  it("shows a running run's steps from the projection within a second of their change", async () => {
    const flag = path.join(work, 'steps-flag');
    const id = await start('waiting', { flag });
    // The first step ended and the second is running: the run wrote that itself, with no approval or end to prompt it.
    await expect.poll(async () => (await api.services.runs.showRun(id)).progress?.steps.map((step) => step.status), { timeout: 20_000 }).toEqual(['succeeded', 'running', 'pending']);
    expect(await stored(id)).toMatchObject({ status: 'running', live_steps: true });
    const fromProjection = await (await offlineRuns()).listRunPage({ runbook: 'waiting', status: 'running' });
    expect(fromProjection.runs.map((run) => run.id)).toContain(id);
    const shown = await api.app.inject({ method: 'GET', url: `/runs/${id}`, headers: { authorization: `Bearer ${olga}` } });
    expect(shown.json()).toMatchObject({ id, status: 'RUNNING', progress: { status: 'running', steps: [{ id: 'first', status: 'succeeded' }, { id: 'second', status: 'running' }, { id: 'third' }] } });
    writeFileSync(flag, 'go');
    await api.temporal.workflow.getHandle(id).result();
    await expect.poll(async () => (await stored(id))?.status).toBe('succeeded');
    expect((await api.services.runs.showRun(id)).progress?.steps.map((step) => step.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });
});

describe('the projection repair', () => {
  it('records a run that Temporal terminated, and rebuilds a lost row, so the list tells the truth', async () => {
    const terminated = await start('waiting', { flag: path.join(work, 'never-written') });
    await expect.poll(async () => (await stored(terminated))?.status).toBe('running');
    await api.temporal.workflow.getHandle(terminated).terminate('stuck for good');
    const lost = await start('quick');
    await api.temporal.workflow.getHandle(lost).result();
    await expect.poll(async () => (await stored(lost))?.status).toBe('succeeded');
    await pool.query('DELETE FROM run_summaries WHERE workflow_id = $1', [lost]);
    // Before the repair the list still says running, and the lost run is not listed.
    expect((await stored(terminated))?.status).toBe('running');
    expect((await list('/runs?runbook=quick&limit=100')).runs.map((run) => run.id)).not.toContain(lost);

    const repair = new RunProjectionRepair(api.temporal, pool, api.services.runs, api.taskQueue, { graceMs: 0, firstLookBackMs: 3_600_000 });
    // (The API's own repair may hold the lock for a moment: a pass is then skipped.)
    const repairPass = async () => {
      for (;;) {
        const pass = await repair.repairOnce();
        if (pass) return pass;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };
    // Temporal's visibility lists a closed run a moment after it closed: passes go on until it has.
    await expect
      .poll(
        async () => {
          await repairPass();
          return { terminated: await stored(terminated), lost: (await stored(lost))?.status };
        },
        { timeout: 30_000, interval: 500 },
      )
      .toMatchObject({ terminated: { status: 'failed', error: 'the run was terminated in Temporal' }, lost: 'succeeded' });
    expect((await list('/runs?status=terminated')).runs.map((run) => run.id)).toEqual([terminated]);
    expect((await list('/runs?runbook=quick&limit=100')).runs.map((run) => run.id)).toContain(lost);
    // A second pass finds nothing left to do.
    expect((await repairPass()).repaired).toBe(0);
  });
});
