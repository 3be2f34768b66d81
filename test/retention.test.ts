// Retention of run history: each environment keeps its runs, logs and Temporal
// histories for its own time; the purge removes exactly the closed, unheld
// runs past it (rows, log lines, Temporal executions), never a held or a
// running one; a dry run only counts; an interrupted purge run again finishes
// with the right totals; only admins set retention, only operators hold runs.
import { WorkflowNotFoundError } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureRetentionSchedule } from '../retention/purge-schedule.js';
import { PURGE_WORKFLOW } from '../workflows/purge-run-history.js';
import { startApiForTests } from './api-harness.js';
import { GATED_RUNBOOK } from './files.js';
import { scratchDir, writeManifests } from './harness.js';
import { runCli, type ProcessEnv } from './processes.js';
import { waitFor } from './wait.js';

const PASSWORD = 'retention password 1';
const DAY_S = 86_400;
const manifests = {
  chatty: `
name: chatty
title: Prints three lines and publishes a report
steps:
  - id: talk
    action: shell.run
    with: { command: 'echo one; echo two; echo three; echo done > report.txt', shell: true, artifacts: [report.txt] }
`,
  gated: GATED_RUNBOOK,
};

/** A chatty run's log lines: its three, and the one saying its report was published. */
const CHATTY_LINES = 4;

/** Crash points armed by the test that interrupts a purge. */
const crash = { afterHistoriesDeleted: 0, deleted: 0 };
const scheduleId = `jarvis-retention-purge-test-${randomBytes(4).toString('hex')}`;

let api: Awaited<ReturnType<typeof startApiForTests>>;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  api = await startApiForTests(
    writeManifests(manifests),
    [
      {
        email: 'ada@example.org',
        password: PASSWORD,
        grants: [
          ['dev', 'admin'],
          ['staging', 'admin'],
          ['prod', 'admin'],
        ],
      },
      {
        email: 'otto@example.org',
        password: PASSWORD,
        grants: [
          ['dev', 'operator'],
          ['staging', 'operator'],
          ['prod', 'operator'],
        ],
      },
      { email: 'vic@example.org', password: PASSWORD, grants: [['dev', 'viewer']] },
    ],
    {
      retentionPurge: {
        scheduleId,
        // Small batches, so a purge goes through several.
        batchSize: 2,
        hooks: {
          afterHistoryDeleted() {
            if (crash.afterHistoriesDeleted === 0) return;
            crash.deleted += 1;
            if (crash.deleted === crash.afterHistoriesDeleted) throw new Error('the API died in the middle of a purge');
          },
        },
      },
    },
  );
  for (const who of ['ada', 'otto', 'vic']) tokens[who] = await api.logIn(`${who}@example.org`, PASSWORD);
}, 120_000);

afterAll(async () => {
  await api?.temporal.schedule
    .getHandle(scheduleId)
    .delete()
    .catch(() => undefined);
  await api?.stop();
});

async function call(who: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) {
  const response = await api.app.inject({ method, url, headers: { authorization: `Bearer ${tokens[who]}` }, ...(payload ? { payload } : {}) });
  return { status: response.statusCode, body: response.body ? response.json() : undefined };
}

async function finishedRun(runbook: string, environment: string): Promise<string> {
  const { id } = await api.services.runs.startRun({ runbook, inputs: {}, environment, startedBy: 'otto@example.org' });
  await api.temporal.workflow.getHandle(id).result();
  await waitFor(async () => (await row(id))?.status === 'succeeded', { message: `the projection of ${id} to be final` });
  if (runbook === 'chatty') await waitFor(async () => (await logLines(id)) === CHATTY_LINES, { message: `the log lines of ${id}` });
  if (runbook === 'chatty') expect(await artifactRows(id)).toBe(1);
  return id;
}

async function row(id: string) {
  const rows = await api.prisma.$queryRawUnsafe<Array<{ status: string; steps: number }>>(
    'SELECT status, (SELECT count(*)::int FROM run_summary_steps WHERE workflow_id = $1) AS steps FROM run_summaries WHERE workflow_id = $1',
    id,
  );
  return rows[0];
}

async function artifactRows(id: string): Promise<number> {
  return api.prisma.runArtifact.count({ where: { runId: id } });
}

async function logLines(id: string): Promise<number> {
  const rows = await api.prisma.$queryRawUnsafe<Array<{ count: number }>>('SELECT count(*)::int AS count FROM run_log_lines WHERE run_id = $1', id);
  return rows[0]!.count;
}

/**
 * Makes a run look as if it ended `days` ago. Temporal's own start and close
 * times cannot be forged, which is why the purge chooses runs by the
 * projection's ended_at (and the log lines keep their own times).
 */
async function backdate(id: string, days: number): Promise<void> {
  await api.prisma.$executeRawUnsafe(
    `UPDATE run_summaries SET started_at = now() - make_interval(secs => $2::double precision + 60),
       ended_at = CASE WHEN ended_at IS NULL THEN NULL ELSE now() - make_interval(secs => $2::double precision) END WHERE workflow_id = $1`,
    id,
    days * DAY_S,
  );
  await api.prisma.$executeRawUnsafe('UPDATE run_log_lines SET at = now() - make_interval(secs => $2::double precision) WHERE run_id = $1', id, days * DAY_S);
}

async function inTemporal(id: string): Promise<boolean> {
  try {
    await api.temporal.workflow.getHandle(id).describe();
    return true;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

/** Temporal deletes an execution in the background, after its close tasks (tens of seconds on the dev server). */
async function deletedFromTemporal(ids: string[]): Promise<void> {
  await Promise.all(ids.map((id) => waitFor(async () => !(await inTemporal(id)), { message: `the Temporal execution of ${id} to be deleted`, timeoutMs: 180_000, intervalMs: 1_000 })));
}

async function purge(dryRun = false) {
  const answer = await call('ada', 'POST', '/admin/retention/purge', { dryRun });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body as {
    id: string;
    status: string;
    dryRun: boolean;
    environments: Array<{ environment: string; runs: number; logLines: number; histories: number; artifactRuns: number; artifacts: number }>;
    totals: { runs: number; logLines: number; histories: number };
  };
}

const countsOf = (report: Awaited<ReturnType<typeof purge>>, environment: string) => {
  const found = report.environments.find((counts) => counts.environment === environment);
  return found ? { runs: found.runs, logLines: found.logLines, histories: found.histories } : undefined;
};

describe('retention of run history', () => {
  const runs: Record<string, string> = {};

  it('is set per environment by its admins only, and Temporal keeps histories for the longest one', async () => {
    expect((await call('ada', 'GET', '/environments/dev/retention')).body).toMatchObject({ runs: '90d', logs: '30d', artifacts: '30d', set: { runs: null } });

    const dev = await call('ada', 'PUT', '/environments/dev/retention', { runs: '2d', logs: '1d' });
    expect(dev.status, JSON.stringify(dev.body)).toBe(200);
    expect(dev.body).toMatchObject({ environment: 'dev', runs: '2d', logs: '1d', artifacts: '30d', set: { runs: '2d', logs: '1d', artifacts: null }, updatedBy: 'ada@example.org' });
    expect((await call('ada', 'PUT', '/environments/staging/retention', { runs: '10d' })).status).toBe(200);
    expect((await call('ada', 'PUT', '/environments/prod/retention', { runs: '120d' })).body).toMatchObject({ namespaceRetention: '120d' });
    // The longest is now staging's (other suites' APIs may set the shared dev server's namespace again, so only the answer is checked).
    expect((await call('ada', 'PUT', '/environments/prod/retention', { runs: '3d' })).body).toMatchObject({ runs: '3d', namespaceRetention: '10d' });
    expect((await call('ada', 'GET', '/admin/retention')).body.environments.map((view: { environment: string; runs: string }) => [view.environment, view.runs])).toEqual([
      ['dev', '2d'],
      ['prod', '3d'],
      ['staging', '10d'],
    ]);

    const invalid = await call('ada', 'PUT', '/environments/dev/retention', { runs: '5h' });
    expect(invalid.status).toBe(400);
    expect(JSON.stringify(invalid.body)).toMatch(/runs must be kept at least 1d/);
    expect((await call('ada', 'PUT', '/environments/dev/retention', { runs: 'forever' })).status).toBe(400);

    for (const who of ['otto', 'vic']) {
      expect((await call(who, 'PUT', '/environments/dev/retention', { runs: '1d' })).status).toBe(403);
      expect((await call(who, 'GET', '/environments/dev/retention')).status).toBe(403);
      expect((await call(who, 'POST', '/admin/retention/purge', { dryRun: true })).status).toBe(403);
    }
    expect((await call('ada', 'GET', '/environments/dev/retention')).body).toMatchObject({ runs: '2d', logs: '1d' });

    const audited = await api.prisma.auditEntry.findMany({ where: { targetType: 'retention', targetId: 'dev' }, orderBy: { id: 'asc' } });
    expect(audited.map((entry) => [entry.actorEmail, entry.outcome])).toEqual([
      ['ada@example.org', 'success'],
      ['ada@example.org', 'failure'],
      ['otto@example.org', 'denied'],
      ['vic@example.org', 'denied'],
    ]);
  });

  it('lets operators hold a run, but not viewers, and archives a closed held run’s history', async () => {
    runs.held = await finishedRun('chatty', 'dev');
    expect((await call('vic', 'POST', `/runs/${runs.held}/hold`, { reason: 'incident review' })).status).toBe(403);
    const held = await call('otto', 'POST', `/runs/${runs.held}/hold`, { reason: 'incident review' });
    expect(held.status, JSON.stringify(held.body)).toBe(200);
    expect(held.body).toMatchObject({ reason: 'incident review', heldBy: 'otto@example.org', historyArchivedAt: expect.any(String) });
    expect((await call('vic', 'GET', `/runs/${runs.held}`)).body).toMatchObject({ id: runs.held, hold: { reason: 'incident review', heldBy: 'otto@example.org' } });
    const listed = (await call('vic', 'GET', '/runs?environment=dev&runbook=chatty')).body as Array<{ id: string; held?: boolean }>;
    expect(listed.find((run) => run.id === runs.held)).toMatchObject({ held: true });
    const archive = await api.prisma.runHold.findUniqueOrThrow({ where: { workflowId: runs.held } });
    expect((archive.history as { events: unknown[] }).events.length).toBeGreaterThan(3);

    // Held then released: purged like any other.
    runs.released = await finishedRun('chatty', 'dev');
    expect((await call('otto', 'POST', `/runs/${runs.released}/hold`, { reason: 'a look' })).status).toBe(200);
    expect((await call('vic', 'DELETE', `/runs/${runs.released}/hold`)).status).toBe(403);
    expect((await call('otto', 'DELETE', `/runs/${runs.released}/hold`)).status).toBe(204);
    expect((await call('otto', 'DELETE', `/runs/${runs.released}/hold`)).status).toBe(404);
    expect((await call('otto', 'GET', `/runs/${runs.released}`)).body).not.toHaveProperty('hold');

    const audited = await api.prisma.auditEntry.findMany({ where: { targetType: 'run', targetId: runs.held }, orderBy: { id: 'asc' } });
    expect(audited.map((entry) => [entry.actorEmail, entry.outcome, (entry.details as { reason?: string }).reason])).toEqual([
      ['vic@example.org', 'denied', 'incident review'],
      ['otto@example.org', 'success', 'incident review'],
    ]);
  });

  it('counts in a dry run what a purge removes, removes exactly that, and nothing more when run again', { timeout: 300_000 }, async () => {
    // dev keeps runs 2 days and their logs 1 day; staging keeps runs 10 days.
    runs.old1 = await finishedRun('chatty', 'dev');
    runs.old2 = await finishedRun('chatty', 'dev');
    runs.old3 = await finishedRun('chatty', 'dev');
    runs.logsOnly = await finishedRun('chatty', 'dev');
    runs.recent = await finishedRun('chatty', 'dev');
    runs.stagingOld = await finishedRun('chatty', 'staging');
    runs.stagingYoung = await finishedRun('chatty', 'staging');
    const running = await api.services.runs.startRun({ runbook: 'gated', inputs: {}, environment: 'dev', startedBy: 'otto@example.org' });
    runs.running = running.id;
    await waitFor(async () => (await row(running.id))?.status === 'running', { message: 'the gated run to be projected' });
    for (const id of [runs.old1, runs.old2, runs.old3, runs.held, runs.released, runs.running]) await backdate(id!, 5);
    await backdate(runs.logsOnly, 1.5);
    await backdate(runs.stagingOld, 12);
    await backdate(runs.stagingYoung, 5);
    const purged = [runs.old1, runs.old2, runs.old3, runs.released, runs.stagingOld] as string[];
    const kept = [runs.held, runs.running, runs.logsOnly, runs.recent, runs.stagingYoung] as string[];

    const dry = await purge(true);
    expect(dry).toMatchObject({ dryRun: true, status: 'succeeded' });
    expect(countsOf(dry, 'dev')).toEqual({ runs: 4, logLines: 5 * CHATTY_LINES, histories: 4 });
    expect(countsOf(dry, 'staging')).toEqual({ runs: 1, logLines: CHATTY_LINES, histories: 1 });
    for (const id of [...purged, ...kept]) {
      expect(await row(id), id).toBeDefined();
      expect(await inTemporal(id), id).toBe(true);
    }
    expect(await logLines(runs.logsOnly)).toBe(CHATTY_LINES);

    const report = await purge();
    expect(report).toMatchObject({ dryRun: false, status: 'succeeded' });
    // Read while Temporal still deletes it in the background: its projection row is not written again.
    await call('ada', 'GET', `/runs/${runs.old1}`);
    expect(await row(runs.old1)).toBeUndefined();
    expect(countsOf(report, 'dev')).toEqual({ runs: 4, logLines: 5 * CHATTY_LINES, histories: 4 });
    expect(countsOf(report, 'staging')).toEqual({ runs: 1, logLines: CHATTY_LINES, histories: 1 });
    expect(report.environments.find((counts) => counts.environment === 'dev')).toMatchObject({ artifactRuns: 4, artifacts: 4 });
    for (const id of purged) {
      expect(await row(id), id).toBeUndefined();
      expect(await logLines(id), id).toBe(0);
      expect(await artifactRows(id), id).toBe(0);
    }
    // Artifacts are kept 30 days: those of every run kept are still there, and still download.
    for (const id of kept.filter((candidate) => candidate !== runs.running)) expect(await artifactRows(id), id).toBe(1);
    const heldArtifacts = (await call('otto', 'GET', `/runs/${runs.held}/artifacts`)).body as Array<{ id: string; name: string }>;
    expect(heldArtifacts.map((artifact) => artifact.name)).toEqual(['report.txt']);
    const download = await api.app.inject({ method: 'GET', url: `/runs/${runs.held}/artifacts/${heldArtifacts[0]!.id}`, headers: { authorization: `Bearer ${tokens.otto}` } });
    expect(download.body).toBe('done\n');
    await deletedFromTemporal(purged);
    for (const id of purged) expect((await call('ada', 'GET', `/runs/${id}`)).status).toBe(404);
    for (const id of kept) {
      expect(await row(id), id).toBeDefined();
      expect(await inTemporal(id), id).toBe(true);
    }
    // Past its logs' retention, not its own: the run stays without its lines.
    expect(await logLines(runs.logsOnly)).toBe(0);
    for (const id of [runs.held, runs.recent, runs.stagingYoung] as string[]) expect(await logLines(id), id).toBe(CHATTY_LINES);
    expect((await call('otto', 'GET', `/runs/${runs.held}`)).body).toMatchObject({ status: 'COMPLETED', hold: { reason: 'incident review' } });
    expect((await api.temporal.workflow.getHandle(runs.running).describe()).status.name).toBe('RUNNING');

    const again = await purge();
    expect(again.totals).toMatchObject({ runs: 0, logLines: 0, histories: 0 });

    const listed = await call('ada', 'GET', '/admin/retention/purges');
    expect(listed.body.slice(0, 3).map((entry: { id: string }) => entry.id)).toEqual([again.id, report.id, dry.id]);
    const audited = await api.prisma.auditEntry.findMany({ where: { action: { startsWith: 'retention.purge' }, targetId: { in: [dry.id, report.id] } } });
    expect(audited.map((entry) => [entry.action, entry.actorEmail, entry.outcome]).sort()).toEqual([
      ['retention.purge', 'ada@example.org', 'success'],
      ['retention.purge.dry-run', 'ada@example.org', 'success'],
    ]);
    expect(audited.find((entry) => entry.action === 'retention.purge')!.details).toMatchObject({ totals: { runs: 5, histories: 5 } });
  });

  it('finishes a purge interrupted in the middle of a batch, counting every run once', { timeout: 300_000 }, async () => {
    const ids: string[] = [];
    for (let index = 0; index < 5; index += 1) ids.push(await finishedRun('chatty', 'prod'));
    for (const id of ids) await backdate(id, 4);
    // The third run's Temporal execution is deleted, then the purge dies before its rows are; it is tried again.
    crash.afterHistoriesDeleted = 3;
    crash.deleted = 0;
    try {
      const report = await purge();
      expect(crash.deleted).toBeGreaterThan(3);
      expect(report.status).toBe('succeeded');
      expect(countsOf(report, 'prod')).toEqual({ runs: 5, logLines: 5 * CHATTY_LINES, histories: 5 });
    } finally {
      crash.afterHistoriesDeleted = 0;
    }
    for (const id of ids) expect(await row(id), id).toBeUndefined();
    await deletedFromTemporal(ids);
  });

  it('keeps a held run readable with its archived history once Temporal has dropped it', { timeout: 300_000 }, async () => {
    const held = runs.held!;
    const { runId } = await api.temporal.workflow.getHandle(held).describe();
    // What the namespace's retention does to a closed execution, whatever Jarvis holds.
    await api.temporal.workflowService.deleteWorkflowExecution({ namespace: 'default', workflowExecution: { workflowId: held, runId } });
    await deletedFromTemporal([held]);
    expect((await call('vic', 'GET', `/runs/${runs.held}`)).body).toMatchObject({ id: runs.held, status: 'COMPLETED', hold: { reason: 'incident review' } });
    const history = await call('vic', 'GET', `/runs/${runs.held}/history`);
    expect(history.status).toBe(200);
    expect(history.body.events[0].eventType).toMatch(/WORKFLOW_EXECUTION_STARTED/);
    expect((await purge()).totals.runs).toBe(0);
    expect(await logLines(held)).toBe(CHATTY_LINES);
  });

  it('runs on its schedule, and refuses a purge started through Temporal by anyone else', { timeout: 120_000 }, async () => {
    const old = await finishedRun('chatty', 'prod');
    await backdate(old, 4);
    expect(await ensureRetentionSchedule(api.temporal, { taskQueue: api.taskQueue, intervalMs: 86_400_000, scheduleId })).toBe(true);
    expect(await ensureRetentionSchedule(api.temporal, { taskQueue: api.taskQueue, intervalMs: 86_400_000, scheduleId })).toBe(false);
    await api.temporal.schedule.getHandle(scheduleId).trigger();
    const scheduled = await waitFor(async () => (await api.services.retention.listPurges()).find((entry) => entry.trigger === 'schedule' && entry.status === 'succeeded'), {
      message: 'a scheduled purge to finish',
      timeoutMs: 60_000,
    });
    expect(scheduled.environments.find((counts) => counts.environment === 'prod')).toMatchObject({ runs: 1, histories: 1 });
    expect(await row(old)).toBeUndefined();

    const forged = api.temporal.workflow.start(PURGE_WORKFLOW, { workflowId: `forged-purge-${randomBytes(3).toString('hex')}`, taskQueue: api.taskQueue, args: [] });
    await expect((await forged).result()).rejects.toThrow();
    // An admin's finished purge started again through Temporal, under its own workflow id and report: refused too.
    const manual = (await api.services.retention.listPurges()).find((entry) => entry.trigger === 'manual' && !entry.dryRun)!;
    const again = await api.temporal.workflow.start(PURGE_WORKFLOW, { workflowId: `jarvis-retention-purge.manual-${manual.id}`, taskQueue: api.taskQueue, args: [{ reportId: manual.id }] });
    await expect(again.result()).rejects.toThrow();
    expect((await api.services.retention.listPurges({ id: manual.id }))[0]).toEqual(manual);
    const refusal = await api.prisma.auditEntry.findFirst({ where: { action: 'retention.purge.refused' } });
    expect(refusal).toMatchObject({ outcome: 'denied' });
  });
});

describe('the retention CLI', () => {
  it('shows and sets retention as an admin, holds and releases as an operator, and refuses a viewer', { timeout: 300_000 }, async () => {
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    const apiUrl = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
    const session = async (who: string): Promise<ProcessEnv> => {
      const env: ProcessEnv = { JARVIS_DATA_DIR: scratchDir() };
      expect((await runCli(['login', '--api', apiUrl, '--email', `${who}@example.org`], env, `${PASSWORD}\n`)).code).toBe(0);
      return env;
    };
    const [ada, otto, vic] = [await session('ada'), await session('otto'), await session('vic')];

    const set = await runCli(['retention', 'set', '-e', 'staging', '--logs', '5d', '--artifacts', '7d'], ada);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/staging\s+10d\s+5d\s+7d\s+ada@example.org/);
    expect(JSON.parse((await runCli(['retention', 'show', '-e', 'staging', '-o', 'json'], ada)).stdout)).toMatchObject({ runs: '10d', logs: '5d', artifacts: '7d' });
    const reset = await runCli(['retention', 'set', '-e', 'staging', '--artifacts', 'default', '-o', 'json'], ada);
    expect(JSON.parse(reset.stdout)).toMatchObject({ artifacts: '30d', set: { artifacts: null } });
    const invalid = await runCli(['retention', 'set', '-e', 'staging', '--runs', '2h'], ada);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('--runs: runs must be kept at least 1d');
    expect((await runCli(['retention', 'set', '-e', 'dev', '--runs', '1d'], vic)).code).toBe(5);

    const id = await finishedRun('chatty', 'staging');
    const held = await runCli(['run', 'hold', id, '--reason', 'legal hold'], otto);
    expect(held.code, held.stderr).toBe(0);
    expect(held.stdout).toContain(`Run ${id} is held; its Temporal history is archived`);
    expect((await runCli(['run', 'show', id], otto)).stdout).toContain('Held       by otto@example.org');
    expect((await runCli(['run', 'release', id], vic)).code).toBe(5);
    expect((await runCli(['run', 'release', id], otto)).stdout).toContain(`Run ${id} is no longer held`);

    const dry = await runCli(['retention', 'purge', '--dry-run', '-o', 'json'], ada);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, status: 'succeeded', requestedBy: 'ada@example.org' });
    expect((await runCli(['retention', 'purges'], ada)).stdout).toMatch(/ada@example.org\s+yes\s+succeeded/);
    expect((await runCli(['retention', 'purge', '--dry-run'], otto)).code).toBe(5);
  });
});
