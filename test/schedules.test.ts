// Schedules on a real Temporal server: fires on time, pause and unpause,
// backfill of a past range, trigger now, the owner's right checked at every
// fire (a revoked owner starts nothing and is audited), approvals applying to
// scheduled runs, and a forged fire started through Temporal directly.
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiForTests } from './api-harness.js';
import { GATED_RUNBOOK } from './files.js';
import { buildApiForTests } from './control-plane.js';
import type { AddressInfo } from 'node:net';
import { scratchDir, writeManifests } from './harness.js';
import { runCli, type ProcessEnv } from './processes.js';
import { expectNothingFor, waitFor } from './wait.js';
import type { ScheduleView } from '../schedules/schedule-service.js';
import { temporalScheduleId } from '../schedules/schedule-service.js';

const PASSWORD = 'schedule password 1';
const OWNER = 'owner@example.com';
const manifests = {
  nightly: `
name: nightly
title: A nightly job
inputs: { type: object, properties: { label: { type: string }, token: { type: string, format: password } }, required: [label] }
steps:
  - id: work
    action: core.noop
`,
  gated: GATED_RUNBOOK,
};

/** The schedule's fire workflows still running (Temporal's `runningActions` is not kept for every overlap policy). */
async function firesRunning(temporal: Client, scheduleId: string): Promise<number> {
  const { info } = await temporal.schedule.getHandle(temporalScheduleId(scheduleId)).describe();
  const statuses = await Promise.all(info.recentActions.map(async (action) => (await temporal.workflow.getHandle(action.action.workflow.workflowId).describe()).status.name));
  return statuses.filter((status) => status === 'RUNNING').length;
}

describe('schedules', () => {
  let api: Awaited<ReturnType<typeof startApiForTests>>;
  let owner: string;
  let viewer: string;

  beforeAll(async () => {
    api = await startApiForTests(writeManifests(manifests), [
      { email: OWNER, password: PASSWORD, grants: [['dev', 'operator']] },
      { email: 'viewer@example.com', password: PASSWORD, grants: [['dev', 'viewer']] },
      { email: 'approver@example.com', password: PASSWORD, grants: [['dev', 'approver']] },
    ]);
    owner = await api.logIn(OWNER, PASSWORD);
    viewer = await api.logIn('viewer@example.com', PASSWORD);
  }, 120_000);

  afterAll(async () => {
    for (const schedule of await api.prisma.schedule.findMany()) await api.services.schedules.delete(schedule.id).catch(() => undefined);
    await api.stop();
  });

  const call = async (token: string, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown) => {
    const response = await api.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload !== undefined ? { payload: payload as object } : {}) });
    return { status: response.statusCode, body: response.body ? response.json() : undefined };
  };
  const create = async (body: Record<string, unknown>) => {
    const created = await call(owner, 'POST', '/schedules', { runbook: 'nightly', environment: 'dev', inputs: { label: 'from a schedule' }, ...body });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body as ScheduleView;
  };
  const runsOf = async (scheduleId: string) => {
    const listed = await call(owner, 'GET', `/runs?schedule=${scheduleId}&limit=100`);
    expect(listed.status).toBe(200);
    return listed.body as Array<{ id: string; status: string; startedBy: string; startedAt: string }>;
  };
  const fires = (scheduleId: string) => api.prisma.scheduleFire.findMany({ where: { scheduleId }, orderBy: { scheduledAt: 'asc' } });

  it('starts a run at every interval, as its owner, with its inputs, and records each fire', async () => {
    const schedule = await create({ name: 'every-two-seconds', spec: { intervals: [{ every: '2s' }] } });
    expect(schedule.state).toBe('active');
    expect(schedule.nextFires.length).toBeGreaterThan(0);
    const runs = await waitFor(async () => ((await runsOf(schedule.id)).filter((run) => run.status === 'COMPLETED').length >= 2 ? runsOf(schedule.id) : undefined), {
      message: 'two scheduled runs completed',
      timeoutMs: 20_000,
    });
    expect(runs.every((run) => run.startedBy === OWNER)).toBe(true);
    const recorded = await fires(schedule.id);
    const started = recorded.filter((fire) => fire.outcome === 'started');
    expect(started.length).toBeGreaterThanOrEqual(2);
    // On time: each run started within seconds of when it was due.
    for (const fire of started.slice(0, 2)) {
      const run = runs.find((candidate) => candidate.id === fire.runId);
      expect(run, `run ${fire.runId} of the fire due ${fire.scheduledAt.toISOString()}`).toBeDefined();
      expect(Date.parse(run!.startedAt) - fire.scheduledAt.getTime()).toBeLessThan(3_000);
    }
    const inputs = await call(owner, 'GET', `/runs/${encodeURIComponent(started[0]!.runId!)}/inputs`);
    expect(inputs.body, JSON.stringify(inputs.body)).toMatchObject({ inputs: { label: 'from a schedule' } });
    // A scheduled run is a run of its own, not a child runbook: its start and end are notified like any run's.
    const events = await api.prisma.notificationEvent.findMany({ where: { runId: started[0]!.runId! }, orderBy: { createdAt: 'asc' } });
    expect(events.map((event) => event.kind)).toEqual(['run.started', 'run.succeeded']);

    // Paused, it starts none; the note says why.
    const paused = await call(owner, 'POST', `/schedules/${schedule.id}/pause`, { note: 'maintenance window' });
    expect(paused.body).toMatchObject({ state: 'paused', note: 'maintenance window' });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const before = (await fires(schedule.id)).length;
    await expectNothingFor(5_000, async () => (await fires(schedule.id)).slice(before), { message: 'a paused schedule fired' });
    const unpaused = await call(owner, 'POST', `/schedules/${schedule.id}/unpause`, {});
    expect(unpaused.body.state).toBe('active');
    await waitFor(async () => (await fires(schedule.id)).length > before, { message: 'a fire after unpausing', timeoutMs: 10_000 });
    expect((await call(owner, 'DELETE', `/schedules/${schedule.id}`)).status).toBe(204);
  }, 60_000);

  it('backfills a past range with one run per missed time, though the schedule skips overlaps', async () => {
    const schedule = await create({ name: 'new-year', spec: { cron: ['0 0 1 1 *'], timezone: 'UTC' }, policies: { overlap: 'skip' } });
    const backfilled = await call(owner, 'POST', `/schedules/${schedule.id}/backfill`, { start: '2020-01-01T00:00:00Z', end: '2023-01-01T00:00:01Z' });
    expect(backfilled.status).toBe(202);
    const recorded = await waitFor(async () => ((await fires(schedule.id)).length >= 4 ? fires(schedule.id) : undefined), { message: 'four backfilled fires', timeoutMs: 20_000 });
    expect(recorded.map((fire) => fire.scheduledAt.toISOString())).toEqual(['2020-01-01T00:00:00.000Z', '2021-01-01T00:00:00.000Z', '2022-01-01T00:00:00.000Z', '2023-01-01T00:00:00.000Z']);
    expect(recorded.every((fire) => fire.outcome === 'started')).toBe(true);
    await waitFor(async () => (await runsOf(schedule.id)).length === 4, { message: 'four backfilled runs', timeoutMs: 15_000 });
    // Nothing else fires (the next new year is far away).
    expect((await call(owner, 'GET', `/schedules/${schedule.id}`)).body.nextFires[0]).toMatch(/-01-01T00:00:00/);
  }, 60_000);

  it('checks the owner at every fire: once their role is gone, a fire starts nothing and is audited', async () => {
    const schedule = await create({ name: 'owner-revoked', spec: { cron: ['0 0 1 1 *'] } });
    const triggered = await call(owner, 'POST', `/schedules/${schedule.id}/trigger`, {});
    expect(triggered.status).toBe(202);
    // Finished, so the next fire is not skipped as an overlap.
    await waitFor(async () => (await runsOf(schedule.id)).filter((run) => run.status === 'COMPLETED').length === 1, { message: 'the triggered run', timeoutMs: 15_000 });
    await waitFor(async () => (await firesRunning(api.temporal, schedule.id)) === 0, { message: 'the fire done' });

    const user = await api.prisma.user.findUniqueOrThrow({ where: { email: OWNER }, include: { grants: true } });
    const grant = user.grants[0]!;
    await api.services.users.withdrawGrant(grant.id);
    try {
      await api.services.schedules.trigger(schedule.id);
      const refused = await waitFor(async () => (await fires(schedule.id)).find((fire) => fire.outcome === 'refused'), { message: 'a refused fire', timeoutMs: 15_000 });
      expect(refused.reason).toContain('needs the operator role');
      const audited = await waitFor(() => api.prisma.auditEntry.findFirst({ where: { action: 'schedule.fire.refused', targetId: schedule.id } }), { message: 'the refusal audited' });
      expect(audited).toMatchObject({ outcome: 'denied', actorEmail: OWNER });
      // People are told (notifications): one event per schedule and hour.
      const told = await api.prisma.$queryRaw<
        Array<{ kind: string; payload: { subject: string; reason: string } }>
      >`SELECT kind, payload FROM notification_events WHERE kind = 'schedule.fire-refused'`;
      expect(told).toEqual([{ kind: 'schedule.fire-refused', payload: { subject: 'owner-revoked (nightly)', reason: expect.stringContaining('needs the operator role') } }]);
      await expectNothingFor(2_000, async () => (await runsOf(schedule.id)).slice(1), { message: "a revoked owner's schedule started a run" });
    } finally {
      await api.services.users.grant(user.id, 'dev', 'operator');
      // A new sign-in: the old token's grants are cached for a few seconds.
      owner = await api.logIn(OWNER, PASSWORD);
    }
  }, 60_000);

  it("gives a scheduled run the runbook's approvals, as any other run", async () => {
    const created = await call(owner, 'POST', '/schedules', { name: 'gated-schedule', runbook: 'gated', environment: 'dev', spec: { cron: ['0 0 1 1 *'] } });
    expect(created.status).toBe(201);
    await call(owner, 'POST', `/schedules/${created.body.id}/trigger`, {});
    const [run] = await waitFor(async () => ((await runsOf(created.body.id)).length === 1 ? runsOf(created.body.id) : undefined), { message: 'the gated run' });
    const waiting = await waitFor(
      async () => {
        const details = await call(owner, 'GET', `/runs/${encodeURIComponent(run!.id)}`);
        return details.body.progress?.steps?.find((step: { id: string; status: string }) => step.id === 'gate' && step.status === 'waiting');
      },
      { message: 'the approval waiting' },
    );
    expect(waiting).toBeDefined();
    // The owner started it: the owner may not approve it.
    const selfApproval = await call(owner, 'POST', `/runs/${encodeURIComponent(run!.id)}/steps/gate/approve`, {});
    expect(selfApproval.status).toBe(403);
    await call(owner, 'POST', `/runs/${encodeURIComponent(run!.id)}/cancel`, {});
  }, 60_000);

  it('refuses a fire started through Temporal directly, not by the schedule', async () => {
    const schedule = await create({ name: 'forged-target', spec: { cron: ['0 0 1 1 *'] } });
    const handle = await api.temporal.workflow.start('scheduledRun', { taskQueue: api.taskQueue, workflowId: `nightly@dev.forged-${Date.now()}`, args: [{ scheduleId: schedule.id }] });
    expect(await handle.result()).toMatchObject({ outcome: 'refused' });
    expect(await runsOf(schedule.id)).toEqual([]);
    expect(await api.prisma.auditEntry.findFirst({ where: { action: 'schedule.fire.refused', targetId: schedule.id } })).toMatchObject({ outcome: 'denied' });
  }, 60_000);

  it('refuses mistakes with what to fix, and keeps schedules to those who may run the runbook', async () => {
    const invalid = await call(owner, 'POST', '/schedules', {
      name: 'broken',
      runbook: 'nightly',
      environment: 'dev',
      inputs: { label: 'x' },
      spec: { intervals: [{ every: 'soon' }], timezone: 'Mars/Olympus' },
      policies: { catchupWindow: '1s' },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors.map((error: { path: string }) => error.path)).toEqual(['spec.intervals[0].every', 'spec.timezone', 'policies.catchupWindow']);
    const badCron = await call(owner, 'POST', '/schedules', { name: 'bad-cron', runbook: 'nightly', environment: 'dev', inputs: { label: 'x' }, spec: { cron: ['61 * * * *'] } });
    expect(badCron.status, JSON.stringify(badCron.body)).toBe(400);
    expect(badCron.body.detail).toContain('Minute is not in range');
    expect(await api.prisma.schedule.findFirst({ where: { name: 'bad-cron' } })).toBeNull();
    const missingInput = await call(owner, 'POST', '/schedules', { name: 'no-label', runbook: 'nightly', environment: 'dev', spec: { cron: ['0 2 * * *'] } });
    expect(missingInput.status).toBe(400);
    const byViewer = await call(viewer, 'POST', '/schedules', { name: 'viewer', runbook: 'nightly', environment: 'dev', inputs: { label: 'x' }, spec: { cron: ['0 2 * * *'] } });
    expect(byViewer.status).toBe(403);
  });

  it('is managed from the CLI: create, list, show, pause with a note, unpause, backfill, delete', async () => {
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    const cli: ProcessEnv = { JARVIS_DATA_DIR: scratchDir() };
    expect((await runCli(['login', '--api', `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`, '--email', OWNER], cli, `${PASSWORD}\n`)).code).toBe(0);
    const created = await runCli(
      ['schedules', 'create', 'cli-nightly', '-r', 'nightly', '-e', 'dev', '--cron', '30 2 * * *', '--timezone', 'Europe/Lisbon', '-i', 'label=cli', '--overlap', 'buffer-one'],
      cli,
    );
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain('cron "30 2 * * *" Europe/Lisbon');
    expect(created.stdout).toContain('overlap buffer-one');
    const listed = JSON.parse((await runCli(['schedules', 'list', '-o', 'json'], cli)).stdout) as ScheduleView[];
    const mine = listed.find((schedule) => schedule.name === 'cli-nightly')!;
    expect(mine.nextFires[0]).toMatch(/T0[12]:30:00/);
    expect((await runCli(['schedules', 'pause', 'cli-nightly', '--note', 'disk migration'], cli)).stdout).toContain('paused (disk migration)');
    expect((await runCli(['schedules', 'show', 'cli-nightly'], cli)).stdout).toMatch(/State\s+paused \(disk migration\)/);
    expect((await runCli(['schedules', 'unpause', 'cli-nightly'], cli)).stdout).toContain('is active');
    const backfill = await runCli(['schedules', 'backfill', 'cli-nightly', '--from', '2024-03-01T00:00:00Z', '--to', '2024-03-03T00:00:00Z'], cli);
    expect(backfill.code, backfill.stderr).toBe(0);
    await waitFor(async () => (await fires(mine.id)).length === 2, { message: 'two backfilled fires' });
    const wrong = await runCli(['schedules', 'create', 'cli-wrong', '-r', 'nightly', '-e', 'dev', '--every', 'often', '-i', 'label=x'], cli);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('spec.intervals[0].every');
    expect((await runCli(['schedules', 'delete', 'cli-nightly'], cli)).code).toBe(0);
    expect(await api.prisma.schedule.findFirst({ where: { name: 'cli-nightly' } })).toBeNull();
  }, 60_000);

  it('keeps secret inputs sealed at rest and the Temporal Schedule free of them', async () => {
    const schedule = await create({ name: 'with-secret', inputs: { label: 'x', token: 'hunter2-schedule-secret' }, spec: { cron: ['0 3 * * *'], timezone: 'America/Sao_Paulo' } });
    const row = await api.prisma.schedule.findUniqueOrThrow({ where: { id: schedule.id } });
    expect(row.inputsCiphertext).not.toContain('hunter2');
    const description = await api.temporal.schedule.getHandle(temporalScheduleId(schedule.id)).describe();
    expect(JSON.stringify(description.action)).not.toContain('hunter2');
    expect(schedule.nextFires[0]).toMatch(/T06:00:00/);
    // A schedule whose Temporal Schedule was lost is created again.
    await api.temporal.schedule.getHandle(temporalScheduleId(schedule.id)).delete();
    expect((await call(owner, 'GET', `/schedules/${schedule.id}`)).body.state).toBe('missing');
    expect(await api.services.schedules.reconcile()).toContain('with-secret');
    expect((await call(owner, 'GET', `/schedules/${schedule.id}`)).body.state).toBe('active');
  }, 180_000);
});

describe('a fire while the API is down', () => {
  it('waits for an API to answer, then starts its run once: nothing lost, nothing doubled', async () => {
    // This API has no control worker: as if every API process were down when the schedule fired.
    const down = await startApiForTests(writeManifests(manifests), [{ email: OWNER, password: PASSWORD, grants: [['dev', 'operator']] }], { controlWorker: false });
    let up: Awaited<ReturnType<typeof buildApiForTests>> | undefined;
    try {
      const owner = await down.services.auth.principalOfUser((await down.prisma.user.findUniqueOrThrow({ where: { email: OWNER } })).id);
      const schedule = await down.services.schedules.create(owner!, {
        name: 'while-down',
        runbook: 'nightly',
        environment: 'dev',
        inputs: { label: 'late' },
        spec: { cron: ['0 0 1 1 *'] },
        policies: {},
      });
      await down.services.schedules.trigger(schedule.id);
      await waitFor(async () => (await firesRunning(down.temporal, schedule.id)) === 1, { message: 'the fire waiting' });
      await expectNothingFor(3_000, () => down.prisma.scheduleFire.findMany({ where: { scheduleId: schedule.id } }), { message: 'a fire recorded with no API up' });

      // An API comes back: the waiting fire is answered and its run starts.
      up = await buildApiForTests(down.database, down.runbooksDir, down.taskQueue, down.temporal);
      const fire = await waitFor(() => down.prisma.scheduleFire.findFirst({ where: { scheduleId: schedule.id } }), { message: 'the fire answered', timeoutMs: 30_000 });
      expect(fire.outcome).toBe('started');
      // The fire is recorded when it is decided; the run starts right after, as the fire's child.
      await waitFor(() => down.temporal.workflow.getHandle(fire.runId!).describe().catch(() => undefined), { message: 'the run started' });
      await down.temporal.workflow.getHandle(fire.runId!).result();
      await waitFor(async () => (await firesRunning(down.temporal, schedule.id)) === 0, { message: 'the fire done' });
      expect(await down.prisma.scheduleFire.count({ where: { scheduleId: schedule.id } })).toBe(1);
      const runs = await down.services.runs.listRuns({ schedule: schedule.id });
      expect(runs.map((run) => run.id)).toEqual([fire.runId]);
      await down.services.schedules.delete(schedule.id);
    } finally {
      await up?.services.close();
      await down.stop();
    }
  }, 90_000);
});
