// Fleet runs on the real Temporal dev server and PostgreSQL: fifty nodes in
// the inventory, each with a simulated agent (a real Temporal worker on its
// own task queue), a rollout in batches of 20% with a 10% failure budget that
// stops at the right batch and rolls back the failed targets, a re-run on the
// failed targets only, and a canary batch that holds the rest until approved.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionCatalog } from '../activities/catalog.js';
import type { HardwareProfile } from '../infra/node-profile.js';
import { PROJECT_ROOT } from '../config/env.js';
import { loadManifestText } from '../manifest/loader.js';
import { startApiForTests } from './api-harness.js';
import { startSimulatedAgents, type SimulatedAgents } from './fleet-agents.js';
import { scratchDir, writeManifests } from './files.js';
import { INTERPRETER_WORKFLOW } from '../runs/run-contract.js';
import { runCli, spawnWorkerProcess } from './processes.js';
import { createRunService, uniqueTaskQueue } from './harness.js';
import { inject } from 'vitest';
import { waitFor } from './wait.js';

const PASSWORD = 'fleet password 12';
const NODES = Array.from({ length: 50 }, (_, index) => `edge-${String(index + 1).padStart(2, '0')}`);
/** Two failures in the canary batch, two in the second, three in the third: seven, over a budget of five. */
const BROKEN = ['edge-03', 'edge-07', 'edge-12', 'edge-18', 'edge-22', 'edge-25', 'edge-29'];
const brokenDir = scratchDir();

// A node is "broken" while a file named after it exists: fixing it is removing the file.
const patchCommand = 'if [ -e "$BROKEN_DIR/$JARVIS_NODE_NAME" ]; then echo "patch failed on $JARVIS_NODE_NAME" >&2; exit 3; fi; echo "patched $JARVIS_NODE_NAME"';

const fleetPatch = `
name: fleet-patch
title: Patch the edge fleet of site A
environments: [dev]
inputs:
  type: object
  properties:
    brokenDir: { type: string }
steps:
  - id: patch
    action: node.shell.run
    targets: { labels: { site: a } }
    pickupTimeout: 30s
    rollout: { batch: 20%, maxFailures: 10%, compensate: failed }
    with:
      command: '${patchCommand}'
      shell: true
      env: { BROKEN_DIR: '\${{ inputs.brokenDir }}' }
    compensate:
      - id: rollback
        action: node.shell.run
        with: { command: 'echo "rolled back $JARVIS_NODE_NAME"', shell: true }
`;

const fleetCanary = `
name: fleet-canary
title: Restart the edge fleet, canary first
environments: [dev]
steps:
  - id: hello
    action: node.shell.run
    targets: site=a
    pickupTimeout: 30s
    rollout: { batch: 5, maxConcurrency: 5, approveAfterFirstBatch: true }
    with: { command: 'echo "hello from $JARVIS_NODE_NAME"', shell: true }
`;

const fleetUndoAll = `
name: fleet-undo-all
title: Deploy one at a time, undo everything on the first failure, and go on
environments: [dev]
steps:
  - id: deploy
    action: node.shell.run
    targets: { names: [edge-41, edge-42, edge-43, edge-44, edge-45, edge-46] }
    pickupTimeout: 30s
    rollout: { batch: 3, maxConcurrency: 1, compensate: done, onFailure: continue }
    with: { command: 'if [ "$JARVIS_NODE_NAME" = edge-42 ]; then exit 1; fi; echo "deployed $JARVIS_NODE_NAME"', shell: true }
    compensate:
      - id: undo
        action: node.shell.run
        with: { command: 'echo "undone $JARVIS_NODE_NAME"', shell: true }
  - id: after
    action: core.noop
`;

function profileOf(hostname: string): HardwareProfile {
  return {
    hostname,
    os: { name: 'Debian GNU/Linux', version: '12', kernel: '6.1.0', arch: 'x64' },
    cpu: { model: 'Test CPU', cores: 1 },
    memoryBytes: 1e9,
    disks: [],
    interfaces: [],
    docker: null,
    collectedAt: new Date().toISOString(),
  };
}

let api: Awaited<ReturnType<typeof startApiForTests>>;
let agents: SimulatedAgents;
const tokens: Record<string, string> = {};

const call = (user: string, method: 'GET' | 'POST', url: string, payload?: object) =>
  api.app.inject({ method, url, headers: { authorization: `Bearer ${tokens[user]}` }, ...(payload ? { payload } : {}) });

/** The nodes whose agent wrote a line for this run and step (the step's id, or a compensation's "step/id"). */
function nodesThatRan(runId: string, stepId: string): string[] {
  return NODES.filter((node) => agents.lines.get(node)!.lines.some((line) => line.step.runId === runId && line.step.stepId === `${stepId}@${node}` && line.stream === 'stdout'));
}

async function settled(runId: string) {
  await api.temporal.workflow
    .getHandle(runId)
    .result()
    .catch(() => undefined);
  return (await call('ada', 'GET', `/runs/${runId}`)).json();
}

beforeAll(async () => {
  api = await startApiForTests(
    writeManifests({
      'fleet-patch': fleetPatch,
      'fleet-canary': fleetCanary,
      'fleet-undo-all': fleetUndoAll,
      'fleet-shell': readFileSync(path.join(PROJECT_ROOT, 'runbooks', 'fleet-shell.yaml'), 'utf8'),
    }),
    [
      { email: 'ada@example.org', password: PASSWORD, grants: [['dev', 'operator']] },
      { email: 'abe@example.org', password: PASSWORD, grants: [['dev', 'approver']] },
      { email: 'vic@example.org', password: PASSWORD, grants: [['prod', 'admin']] },
      { email: 'root@example.org', password: PASSWORD, grants: [['dev', 'admin']] },
    ],
  );
  await api.app.listen({ host: '127.0.0.1', port: 0 });
  for (const user of ['ada', 'abe', 'vic', 'root']) tokens[user] = await api.logIn(`${user}@example.org`, PASSWORD);
  for (const name of NODES) await api.services.nodes.upsertFromProvisioning({ name, environment: 'dev', address: '', labels: { site: 'a' }, profile: profileOf(name) });
  // Nodes of another site, without agents: selecting them would leave steps nobody picks up.
  for (const name of ['far-1', 'far-2']) await api.services.nodes.upsertFromProvisioning({ name, environment: 'dev', address: '', labels: { site: 'b' }, profile: profileOf(name) });
  agents = await startSimulatedAgents(NODES, 'dev', api.databaseUrl);
}, 180_000);

afterAll(async () => {
  await agents?.stop();
  await api?.stop();
  rmSync(brokenDir, { recursive: true, force: true });
});

describe('fleet manifests', () => {
  it('gives a runbook’s own targets and rollout to its node-local steps that name neither node nor targets, and says when none uses them', () => {
    const fleetWide = loadManifestText(
      `
name: fleet-wide
title: Fleet-wide
inputs: { type: object, properties: { selector: { type: string }, undo: { type: boolean } } }
targets: \${{ inputs.selector }}
rollout: { batch: 10%, compensate: "\${{ inputs.undo && 'failed' || 'none' }}" }
steps:
  - id: upgrade
    action: node.packages.upgrade
  - id: reboot
    action: node.reboot
    rollout: { batch: 1 }
  - id: one
    action: node.health
    node: edge-01
  - id: note
    action: core.noop
`,
      actionCatalog,
    );
    expect(fleetWide.ok, fleetWide.ok ? '' : JSON.stringify(fleetWide.errors)).toBe(true);
    const steps = fleetWide.ok ? (fleetWide.compiled.runbook.steps as Array<{ id: string; targets?: unknown; rollout?: { batch: unknown; compensate: unknown } }>) : [];
    expect(steps.map((step) => [step.id, step.targets ?? null, step.rollout?.batch ?? null])).toEqual([
      ['upgrade', '${{ inputs.selector }}', '10%'],
      ['reboot', '${{ inputs.selector }}', 1],
      ['one', null, null],
      ['note', null, null],
    ]);
    expect(steps[0]!.rollout!.compensate).toBe("${{ inputs.undo && 'failed' || 'none' }}");
    const unused = loadManifestText('name: unused\ntitle: Unused\ntargets: all\nsteps:\n  - id: a\n    action: core.noop\n', actionCatalog);
    expect(unused.ok ? [] : unused.errors.map((error) => `${error.path}: ${error.message}`)).toEqual([expect.stringMatching(/^targets: no step uses the runbook’s targets/)]);
    const alone = loadManifestText('name: alone\ntitle: Alone\nrollout: { batch: 1 }\nsteps:\n  - id: a\n    action: node.health\n    node: n\n', actionCatalog);
    expect(alone.ok ? [] : alone.errors.map((error) => error.path)).toEqual(['rollout']);
  });

  it('refuses a bad selector, a bad batch, a node-less compensation elsewhere and a fleet step on a main-worker action, with clear messages', () => {
    const result = loadManifestText(
      `
name: bad-fleet
title: Bad
steps:
  - id: a
    action: node.health
    targets: { labels: {}, colour: red }
  - id: b
    action: node.health
    targets: 'site'
    rollout: { batch: 0, maxFailures: 120% }
  - id: c
    action: shell.run
    targets: all
    with: { command: 'true' }
  - id: d
    action: node.health
    node: edge-01
    rollout: { batch: 1 }
`,
      actionCatalog,
    );
    expect(result.ok).toBe(false);
    const messages = result.ok ? [] : result.errors.map((error) => `${error.path}: ${error.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^steps\[0\]\.targets/),
        expect.stringMatching(/^steps\[1\]\.targets: "site" is not a selector term/),
        expect.stringMatching(/^steps\[1\]\.rollout\.batch: 0 is not a whole number of at least 1/),
        expect.stringMatching(/^steps\[1\]\.rollout\.maxFailures: 120% is not a percentage/),
        expect.stringMatching(/^steps\[2\]\.targets: "targets" applies only to node-local actions/),
        expect.stringMatching(/^steps\[3\]\.rollout: "rollout" applies only to a step with "targets"/),
      ]),
    );
  });
});

describe('a fleet rollout over fifty agents', () => {
  let firstRun = '';

  it('stops at the third batch once seven of fifty failed (budget 10%), skips the rest and rolls back exactly the failed targets', async () => {
    mkdirSync(brokenDir, { recursive: true, mode: 0o777 });
    for (const node of BROKEN) writeFileSync(path.join(brokenDir, node), '');
    const started = await call('ada', 'POST', '/runbooks/fleet-patch/execute', { environment: 'dev', inputs: { brokenDir } });
    expect(started.statusCode).toBe(201);
    firstRun = started.json().id;
    const run = await settled(firstRun);

    expect(run.progress.status).toBe('failed');
    const step = run.progress.steps.find((entry: { id: string }) => entry.id === 'patch');
    expect(step.status).toBe('failed');
    expect(step.error).toMatch(/7 of 50 targets failed in 3 of 5 batches, over the failure budget of 5/);
    expect(step.fleet).toMatchObject({ total: 50, batchSize: 10, batches: 5, currentBatch: 3, failureBudget: 5, counts: { succeeded: 23, failed: 7, skipped: 20, pending: 0, running: 0 } });

    const ran = nodesThatRan(firstRun, 'patch');
    expect(ran).toEqual(NODES.slice(0, 30).filter((node) => !BROKEN.includes(node)));
    expect(nodesThatRan(firstRun, 'patch/rollback')).toEqual(BROKEN);
    // The site-B nodes were never selected; the last two batches never started.
    expect(agents.lines.get('edge-31')!.lines.filter((line) => line.step.runId === firstRun)).toEqual([]);

    // The run's own history grows per batch, not per target: every target's activity is in a batch's child.
    const history = await api.temporal.workflow.getHandle(firstRun).fetchHistory();
    const events = history.events ?? [];
    expect(events.filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'node.shell.run')).toEqual([]);
    expect(events.filter((event) => event.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name === 'fleetBatch').length).toBe(3);
    console.log(JSON.stringify({ figure: 'fleet parent history events', targets: 50, batches: 3, events: events.length }));
  });

  it('lists the targets by status, page by page, to whoever may read the run, and to nobody else', async () => {
    const failed = await call('ada', 'GET', `/runs/${firstRun}/targets?status=failed`);
    expect(failed.statusCode).toBe(200);
    const targets = failed.json().targets as Array<{ node: string; status: string; batch: number; attempts: number; error: string; compensation: { status: string }; durationMs: number }>;
    expect(targets.map((target) => target.node)).toEqual(BROKEN);
    expect(targets[0]).toMatchObject({ status: 'failed', batch: 1, attempts: 1, compensation: { status: 'succeeded' } });
    expect(targets[0]!.error).toMatch(/exited with code 3: patch failed on edge-03/);
    expect(targets[0]!.durationMs).toBeGreaterThanOrEqual(0);

    const first = await call('ada', 'GET', `/runs/${firstRun}/targets?limit=20`);
    expect(first.json().targets).toHaveLength(20);
    const cursor = first.headers['x-next-cursor'] as string;
    expect(cursor).toBeTruthy();
    const rest = (await call('ada', 'GET', `/runs/${firstRun}/targets?limit=1000&cursor=${cursor}`)).json().targets as Array<{ node: string; status: string }>;
    expect(rest.map((target) => target.node)).toEqual(NODES.slice(20));
    expect(rest.filter((target) => target.status === 'skipped').map((target) => target.node)).toEqual(NODES.slice(30));

    expect((await call('vic', 'GET', `/runs/${firstRun}/targets`)).statusCode).toBe(403);
    expect((await call('ada', 'GET', `/runs/${firstRun}/targets?status=broken`)).statusCode).toBe(400);
  });

  it('re-runs on the failed targets only: once fixed, those seven are patched and no other node is touched', async () => {
    for (const node of BROKEN) rmSync(path.join(brokenDir, node));
    expect((await call('ada', 'POST', `/runs/${firstRun}/rerun`, { targets: 'some' })).json().detail).toMatch(/the body may only be \{"targets": "failed"\}/);
    const rerun = await call('ada', 'POST', `/runs/${firstRun}/rerun`, { targets: 'failed' });
    expect(rerun.statusCode).toBe(201);
    const id = rerun.json().id as string;
    const run = await settled(id);
    expect(run.progress.status).toBe('succeeded');
    const step = run.progress.steps.find((entry: { id: string }) => entry.id === 'patch');
    expect(step.fleet).toMatchObject({ total: 7, reused: true, counts: { succeeded: 7, failed: 0, skipped: 0 } });
    expect(nodesThatRan(id, 'patch')).toEqual(BROKEN);
    const audit = await api.prisma.auditEntry.findFirst({ where: { action: `POST /runs/:id/rerun`, targetId: firstRun, outcome: 'success' } });
    expect(audit?.details).toMatchObject({ targets: 'failed', newRun: id });
  });
});

describe('targets a re-run names', () => {
  it('are covered by the API signature: a start whose targets were changed after signing is refused and touches no node', async () => {
    const plan = api.services.runs.planStart({ runbook: 'fleet-canary', inputs: {}, environment: 'dev', startedBy: 'ada@example.org', fleetTargets: { hello: ['edge-01'] } });
    const id = `${plan.id}-tampered`;
    await api.temporal.workflow.start(INTERPRETER_WORKFLOW, { taskQueue: api.taskQueue, workflowId: id, args: [{ ...plan.input, fleetTargets: { hello: ['edge-02', 'edge-03'] } }] });
    const failure = await api.temporal.workflow.getHandle(id).result().then(
      () => undefined,
      (error: Error) => error,
    );
    expect(String((failure?.cause as Error | undefined)?.message ?? failure?.message)).toMatch(/refused: .*signature/);
    expect(nodesThatRan(id, 'hello')).toEqual([]);
  });

  it('a batch started on its own through Temporal, without a verified run as its parent, acts on no node', async () => {
    const runId = `forged-${Date.now()}`;
    const call = { id: 'hello', action: 'node.shell.run', args: { command: 'echo', args: ['forged'] }, retry: { maxAttempts: 1, initialIntervalMs: 1000, backoffCoefficient: 2, maximumIntervalMs: 1000, nonRetryableErrorTypes: [] }, timeoutMs: 10_000 };
    const input = { runId, runbook: 'fleet-canary', environment: 'dev', stepId: 'hello', batch: 1, mode: 'run', step: call, compensate: [], compensateFailed: false, targets: ['edge-01', 'edge-02'], maxConcurrency: 2, failureBudget: null, pickupTimeoutMs: 10_000, secrets: [], crashRetryAttempts: 0 };
    const handle = await api.temporal.workflow.start('fleetBatch', { taskQueue: api.taskQueue, workflowId: `${runId}--fleet--hello--1`, args: [input] });
    const failure = await handle.result().then(
      () => undefined,
      (error: Error) => error,
    );
    expect(String((failure?.cause as Error | undefined)?.message)).toContain(`a fleet batch runs only as a child of its run ${runId}`);
    expect(nodesThatRan(runId, 'hello')).toEqual([]);
  });
});

describe('a worker killed in the middle of a rollout', () => {
  it('loses nothing and runs no target twice: a new worker finishes the batches from where the history stands', async () => {
    const taskQueue = uniqueTaskQueue('fleet-kill');
    const manifests = writeManifests({
      'fleet-slow': `
name: fleet-slow
title: A slow command over ten nodes
environments: [dev]
steps:
  - id: slow
    action: node.shell.run
    targets: name=edge-31|edge-32|edge-33|edge-34|edge-35|edge-36|edge-37|edge-38|edge-39|edge-40
    pickupTimeout: 1m
    rollout: { batch: 5 }
    with: { command: 'echo "start $JARVIS_NODE_NAME"; sleep 2; echo "done $JARVIS_NODE_NAME"', shell: true }
`,
    });
    const runs = await createRunService(taskQueue, manifests);
    const workerEnv = { TEMPORAL_ADDRESS: inject('temporalAddress'), JARVIS_TASK_QUEUE: taskQueue, DATABASE_URL: api.databaseUrl };
    const first = spawnWorkerProcess(workerEnv);
    let second: ReturnType<typeof spawnWorkerProcess> | undefined;
    try {
      await first.ready;
      const { id } = await runs.service.startRun({ runbook: 'fleet-slow', inputs: {}, environment: 'dev', startedBy: 'ada@example.org' });
      const starts = (node: string) => agents.lines.get(node)!.lines.filter((line) => line.step.runId === id && line.text === `start ${node}`).length;
      const targets = Array.from({ length: 10 }, (_, index) => `edge-${31 + index}`);
      // The first batch is running on the agents: the worker that drives it dies.
      await waitFor(async () => targets.slice(0, 5).some((node) => starts(node) > 0), { message: 'the first batch to start', timeoutMs: 60_000 });
      first.child.kill('SIGKILL');
      second = spawnWorkerProcess(workerEnv);
      await second.ready;
      await runs.client.workflow.getHandle(id).result();
      expect(targets.map((node) => [node, starts(node)])).toEqual(targets.map((node) => [node, 1]));
      const page = (await call('ada', 'GET', `/runs/${id}/targets`)).json().targets as Array<{ node: string; status: string; batch: number }>;
      expect(page.map((target) => [target.node, target.status, target.batch])).toEqual(targets.map((node, index) => [node, 'succeeded', index < 5 ? 1 : 2]));
    } finally {
      first.child.kill('SIGKILL');
      second?.child.kill('SIGTERM');
      await runs.close();
    }
  }, 240_000);
});

describe('stopping a rollout', () => {
  it('with one target at a time, the first failure stops it: the rest is skipped, every done target is rolled back too (compensate: done), and the run goes on (onFailure: continue)', async () => {
    const started = await call('ada', 'POST', '/runbooks/fleet-undo-all/execute', { environment: 'dev', inputs: {} });
    expect(started.statusCode, started.body).toBe(201);
    const id = started.json().id as string;
    const run = await settled(id);
    expect(run.progress.status).toBe('succeeded');
    const [deploy, after] = run.progress.steps as Array<{ id: string; status: string; error?: string; fleet?: unknown }>;
    expect(deploy).toMatchObject({ status: 'failed', fleet: { total: 6, batches: 2, currentBatch: 1, failureBudget: 0, counts: { succeeded: 1, failed: 1, skipped: 4 } } });
    expect(deploy!.error).toMatch(/1 of 6 targets failed in 1 of 2 batches, over the failure budget of 0/);
    expect(after!.status).toBe('succeeded');
    expect(nodesThatRan(id, 'deploy')).toEqual(['edge-41']);
    expect(nodesThatRan(id, 'deploy/undo')).toEqual(['edge-41', 'edge-42']);
    const targets = (await call('ada', 'GET', `/runs/${id}/targets`)).json().targets as Array<{ node: string; status: string; compensation?: { status: string } }>;
    expect(targets.map((target) => [target.node, target.status, target.compensation?.status ?? null])).toEqual([
      ['edge-41', 'succeeded', 'succeeded'],
      ['edge-42', 'failed', 'succeeded'],
      ['edge-43', 'skipped', null],
      ['edge-44', 'skipped', null],
      ['edge-45', 'skipped', null],
      ['edge-46', 'skipped', null],
    ]);
  });
});

describe('a canary batch', () => {
  it('holds the rest of the fleet until an approver approves, and refuses the starter', async () => {
    const started = await call('ada', 'POST', '/runbooks/fleet-canary/execute', { environment: 'dev', inputs: {} });
    expect(started.statusCode, started.body).toBe(201);
    const id = started.json().id as string;
    const waiting = await waitFor(
      async () => {
        const run = (await call('ada', 'GET', `/runs/${id}`)).json();
        const step = run.progress?.steps?.find((entry: { id: string }) => entry.id === 'hello');
        return step?.status === 'waiting' ? step : undefined;
      },
      { message: 'the canary step to wait for its approval', timeoutMs: 60_000 },
    );
    expect(waiting.fleet).toMatchObject({ total: 50, batches: 10, currentBatch: 1, counts: { succeeded: 5, pending: 45 } });
    expect(nodesThatRan(id, 'hello')).toEqual(NODES.slice(0, 5));

    expect((await call('ada', 'POST', `/runs/${id}/steps/hello/approve`, {})).statusCode).toBe(403);
    // The rest is still held: nothing ran past the canary while the decision was refused.
    expect(nodesThatRan(id, 'hello')).toEqual(NODES.slice(0, 5));
    const approved = await call('abe', 'POST', `/runs/${id}/steps/hello/approve`, { comment: 'canary looks fine' });
    expect(approved.statusCode).toBe(200);
    expect(approved.json()).toMatchObject({ decision: 'approved' });

    const run = await settled(id);
    expect(run.progress.status).toBe('succeeded');
    expect(nodesThatRan(id, 'hello')).toEqual(NODES);
  });
});

describe('the fleet CLI', () => {
  it('runs a command on the nodes a selector picks (admins only) and lists their results as JSON', async () => {
    const apiUrl = `http://127.0.0.1:${(api.app.server.address() as { port: number }).port}`;
    const admin = { JARVIS_DATA_DIR: scratchDir() };
    const operator = { JARVIS_DATA_DIR: scratchDir() };
    expect((await runCli(['login', '--api', apiUrl, '--email', 'root@example.org'], admin, `${PASSWORD}\n`)).code).toBe(0);
    expect((await runCli(['login', '--api', apiUrl, '--email', 'ada@example.org'], operator, `${PASSWORD}\n`)).code).toBe(0);

    const refused = await runCli(['nodes', 'run', '--selector', 'name=edge-01|edge-02', '--', 'echo', 'hi'], operator);
    expect(refused.code).toBe(5);
    expect((await runCli(['nodes', 'run', '--selector', 'site', '--', 'echo', 'hi'], admin)).stderr).toMatch(/"site" is not a selector term/);

    const ran = await runCli(['nodes', 'run', '--selector', 'site=a,name=edge-01|edge-02|edge-03', '--batch', '2', '--watch', '--', 'echo', 'hello fleet'], admin);
    expect(ran.code, ran.stderr).toBe(0);
    const runs = (await call('root', 'GET', '/runs?runbook=fleet-shell')).json() as Array<{ id: string }>;
    expect(runs).toHaveLength(1);
    const listed = await runCli(['run', 'targets', runs[0]!.id, '-o', 'json'], admin);
    const targets = JSON.parse(listed.stdout) as Array<{ node: string; status: string; batch: number; outputSummary: string }>;
    expect(targets.map((target) => [target.node, target.status, target.batch])).toEqual([
      ['edge-01', 'succeeded', 1],
      ['edge-02', 'succeeded', 1],
      ['edge-03', 'succeeded', 2],
    ]);
    expect(targets[0]!.outputSummary).toContain('hello fleet');
    expect((await runCli(['run', 'targets', runs[0]!.id, '--status', 'failed'], admin)).stdout.trim()).toBe('(none)');
    expect((await runCli(['run', 'show', runs[0]!.id], admin)).stdout).toContain('Fleet step run: batch 2 of 2 (2 per batch), 3 targets: 3 succeeded; failure budget 0');
  }, 180_000);
});
