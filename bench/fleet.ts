// `npm run bench:fleet`: a fleet run (a no-op on every node, `targets: all`,
// batches of 10%) over FLEET_SIZE (default 1,000) simulated agents, each a real
// Temporal worker on its own task queue, through the real interpreter started
// by the API, against the same no-op activities started by a hand-written
// fan-out on the same server; the histories' sizes; and from Chromium the time
// until the run page's fleet view is usable. Aims: the fleet's throughput at
// least 0.7 of the fan-out's, the fleet view usable under 1 s. Exits non-zero
// unless every target of every run succeeded.
import { Client, Connection, ServiceError } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadEnv, PROJECT_ROOT } from '../config/env.js';
import { freePort } from '../config/free-port.js';
import { NodeStore } from '../infra/node-store.js';
import { PayloadKeyGenerations } from '../security/payload-key-generations.js';
import { findTemporalBinary, startDevServer } from '../temporal/dev-server.js';
import { createDataConverter } from '../temporal/payload-codec.js';
import { createServerDatabase } from '../test/databases.js';
import { writeManifests } from '../test/files.js';
import { ADMIN, signIn, startWebStack } from '../test/web-stack.js';
import { startBenchAgents } from './fleet-agents.js';
import { startFanOutWorker } from './fleet-fan-out-process.js';
import type { FanOutInput, FanOutResult } from './fleet-fan-out-workflow.js';
import { historySize, type HistorySize } from './fleet-history.js';
import { loadFleetView, type FleetViewLoad } from './fleet-web.js';
import { emitterFor, sizeFromEnv } from './figures.js';
import { cpuSeconds, percentile } from './fleet-measure.js';

const SIZE = sizeFromEnv('FLEET_SIZE', 1_000);
/** Fleet and fan-out runs each, alternated (fleet, fan-out, fan-out, fleet, ...) so neither always meets a fresher server. */
const ROUNDS = sizeFromEnv('FLEET_ROUNDS', 2);
const WEB_SAMPLES = sizeFromEnv('BENCH_SAMPLES', 7);
const AGENTS_PER_CONNECTION = sizeFromEnv('FLEET_AGENTS_PER_CONNECTION', 100);
const BATCH_SIZE = Math.ceil(SIZE / 10);
/**
 * Targets in flight at once: a whole batch (the rollout's default), or FLEET_MAX_CONCURRENCY (the rollout's
 * maxConcurrency). The fan-out keeps as many in flight, which is what the rollout runs at once.
 */
const MAX_CONCURRENCY = process.env.FLEET_MAX_CONCURRENCY ? sizeFromEnv('FLEET_MAX_CONCURRENCY', BATCH_SIZE) : undefined;
const concurrencyFor = (targets: number) => Math.min(MAX_CONCURRENCY ?? Infinity, Math.ceil(targets / 10));
const ENVIRONMENT = 'dev';
const STEP = 'noop';
const FAN_OUT_QUEUE = 'bench-fleet-fan-out';
const AIM_RATIO = 0.7;
const AIM_USABLE_MS = 1_000;
/** Temporal's frontend.namespaceCount: concurrent long polls of one kind per namespace per frontend. */
const DEFAULT_POLL_LIMIT = 1_200;

// The stack (another process) and the agents here must hold the same payload keys.
process.env.JARVIS_SECRET_KEY ??= randomBytes(32).toString('base64');
// A thousand workers each logging their start (and that they poll no workflows) would drown the figures. On a
// signal, the bench stops what it started (below) rather than the SDK only draining the workers.
Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
const emit = emitterFor('fleet');
const env = loadEnv();
const names = Array.from({ length: SIZE }, (_, index) => `node-${String(index + 1).padStart(5, '0')}`);
const manifest = (name: string, targets: string) => `
name: ${name}
title: A no-op on every node, 10% at a time
environments: [${ENVIRONMENT}]
steps:
  - id: ${STEP}
    action: node.noop
    targets: ${targets}
    pickupTimeout: 1m
    rollout: { batch: 10%${MAX_CONCURRENCY ? `, maxConcurrency: ${MAX_CONCURRENCY}` : ''} }
    with: { message: fleet }
`;
const WARM_UP = names.slice(0, Math.min(20, SIZE));

const GRPC_DEADLINE_EXCEEDED = 4;

/** A workflow's result, waiting again when the long poll for it timed out (an overloaded server answers DEADLINE_EXCEEDED). */
async function settled<T>(result: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await result();
    } catch (error) {
      if (!(error instanceof ServiceError && (error.cause as { code?: number } | undefined)?.code === GRPC_DEADLINE_EXCEEDED)) throw error;
    }
  }
}

const cleanups: Array<() => Promise<unknown>> = [];
let failed = false;
async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.reverse().splice(0)) await cleanup().catch((error: unknown) => console.error('cleanup:', error));
}
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    console.error(`${signal}: stopping the agents, the stack and the Temporal server`);
    void cleanUp().finally(() => process.exit(1));
  });
try {
  const binary = findTemporalBinary(env.searchPath, env.cacheBinDir);
  if (!binary) throw new Error('no temporal binary: run .ci/run or npm start once');
  // Every agent holds one activity poll open; past Temporal's default of 1,200 per frontend, polls are refused (ResourceExhausted).
  const pollLimit = Math.max(DEFAULT_POLL_LIMIT, SIZE + 200);
  const server = await startDevServer({
    binary,
    port: await freePort(),
    logFile: path.join(PROJECT_ROOT, '.data', 'bench-fleet', 'temporal.log'),
    ...(pollLimit > DEFAULT_POLL_LIMIT ? { dynamicConfig: { 'frontend.namespaceCount': pollLimit } } : {}),
  });
  cleanups.push(() => server.stop());
  const database = await createServerDatabase();
  cleanups.push(() => database.drop());
  const stack = await startWebStack(writeManifests({ 'fleet-noop': manifest('fleet-noop', 'all'), 'fleet-warm-up': manifest('fleet-warm-up', `{ names: [${WARM_UP.join(', ')}] }`) }), server.address, {
    // The stack's database is this one: the agents read its payload key generations, the inventory is written here.
    DATABASE_URL: database.url,
  });
  cleanups.push(() => stack.stop());
  const pool = new pg.Pool({ connectionString: database.url, max: 8 });
  cleanups.push(() => pool.end());
  const dataConverter = createDataConverter(env, { generations: new PayloadKeyGenerations(pool) });
  const client = new Client({ connection: await Connection.connect({ address: server.address }), dataConverter });
  cleanups.push(() => client.connection.close());

  // 1. The inventory and the agents.
  const registering = performance.now();
  const nodes = new NodeStore(pool);
  const profile = { os: { name: 'Debian GNU/Linux', version: '12', kernel: '6.1.0', arch: 'x64' }, cpu: { model: 'Simulated', cores: 1 }, memoryBytes: 1e9, disks: [], interfaces: [], docker: null };
  for (let start = 0; start < SIZE; start += 8)
    await Promise.all(
      names
        .slice(start, start + 8)
        .map((name) =>
          nodes.upsertFromProvisioning({ name, environment: ENVIRONMENT, address: '', labels: { fleet: 'bench' }, profile: { hostname: name, ...profile, collectedAt: new Date().toISOString() } }),
        ),
    );
  emit('nodes_registered', performance.now() - registering, 'ms', { nodes: SIZE });

  const memoryBefore = process.memoryUsage();
  const agents = await startBenchAgents({ names, environment: ENVIRONMENT, address: server.address, dataConverter, agentsPerConnection: AGENTS_PER_CONNECTION });
  cleanups.push(() => agents.stop());
  emit('agents_start', agents.startMs, 'ms', { agents: SIZE, processes: 1, connections: agents.connections, pollsPerAgent: 1, frontendNamespaceCount: pollLimit });
  // What idle agents cost: their long polls, here and on the server, over a quiet while.
  const idleMs = 15_000;
  const [selfBefore, serverBefore] = [cpuSeconds(process.pid), cpuSeconds(server.process.pid!)];
  await new Promise((resolve) => setTimeout(resolve, idleMs));
  // Read after the quiet while, so start-up garbage is mostly collected.
  const memoryAfter = process.memoryUsage();
  const agentsRss = memoryAfter.rss - memoryBefore.rss;
  emit('agents_memory', agentsRss / 1024 ** 2, 'MiB', {
    agents: SIZE,
    perAgentKiB: Math.round(agentsRss / 1024 / SIZE),
    jsHeapMiB: Math.round((memoryAfter.heapUsed - memoryBefore.heapUsed) / 1024 ** 2),
    measured: 'resident set growth of the process',
  });
  emit('agents_idle_cpu', ((cpuSeconds(process.pid) - selfBefore) / (idleMs / 1_000)) * 100, '% of a core', { agents: SIZE, where: 'agents process' });
  emit('agents_idle_server_cpu', ((cpuSeconds(server.process.pid!) - serverBefore) / (idleMs / 1_000)) * 100, '% of a core', { agents: SIZE, where: 'Temporal dev server' });

  const fanOutWorker = await startFanOutWorker({ TEMPORAL_ADDRESS: server.address, DATABASE_URL: database.url, BENCH_FAN_OUT_QUEUE: FAN_OUT_QUEUE });
  cleanups.push(() => fanOutWorker.stop());
  const { accessToken } = await stack.api<{ accessToken: string }>('POST', '/auth/login', ADMIN);

  // CPU seconds a run took here (agents, fan-out worker) and on the server; the stack's own process is not counted.
  const cpuNow = () => ({ here: cpuSeconds(process.pid), server: cpuSeconds(server.process.pid!) });
  const cpuSince = (before: ReturnType<typeof cpuNow>) => {
    const after = cpuNow();
    return { here: after.here - before.here, server: after.server - before.server };
  };

  // 2. A fleet run through the API and the interpreter, timed from the request to its end.
  let sequence = 0;
  const fleetRun = async (runbook: string, targets: number) => {
    const cpu = cpuNow();
    const begin = performance.now();
    const { id } = await stack.api<{ id: string }>('POST', `/runbooks/${runbook}/execute`, { environment: ENVIRONMENT, inputs: {} }, accessToken);
    await settled(() => client.workflow.getHandle(id).result()).catch(() => undefined);
    const ms = performance.now() - begin;
    const run = await stack.api<{ progress?: { status: string; steps: Array<{ id: string; fleet?: { batches: number; currentBatch: number; counts: Record<string, number> } }> } }>(
      'GET',
      `/runs/${encodeURIComponent(id)}`,
      undefined,
      accessToken,
    );
    const fleet = run.progress?.steps.find((step) => step.id === STEP)?.fleet;
    const ok = run.progress?.status === 'succeeded' && fleet?.counts.succeeded === targets;
    if (!ok) console.error(`fleet run ${id} (${runbook}): ${run.progress?.status}, counts ${JSON.stringify(fleet?.counts)} of ${targets} targets`);
    return { id, ms, ok, batches: fleet?.batches ?? 0, batchesRun: fleet?.currentBatch ?? 0, cpu: cpuSince(cpu) };
  };
  // 3. The hand-written fan-out over the same nodes, on the same server.
  const fanOut = async (targets: string[]) => {
    const cpu = cpuNow();
    const begin = performance.now();
    const input: FanOutInput = { environment: ENVIRONMENT, nodes: targets, concurrency: concurrencyFor(targets.length), chunk: 2_000, pickupTimeoutMs: 60_000 };
    const handle = await client.workflow.start('handwrittenFanOut', { taskQueue: FAN_OUT_QUEUE, workflowId: `bench-fan-out@${ENVIRONMENT}.${(sequence += 1)}`, args: [input] });
    const result = (await settled(() => handle.result())) as FanOutResult;
    const ms = performance.now() - begin;
    const ok = result.succeeded === targets.length && result.failed.length === 0;
    if (!ok) console.error(`fan-out ${handle.workflowId}: ${result.succeeded} of ${targets.length} succeeded, failed: ${result.failed.slice(0, 10).join(', ')}`);
    return { id: handle.workflowId, firstRunId: handle.firstExecutionRunId, ms, ok, runs: result.runs, cpu: cpuSince(cpu) };
  };

  // Both paths once over a few nodes first: bundles loaded, caches filled.
  const warm = [await fleetRun('fleet-warm-up', WARM_UP.length), await fanOut(WARM_UP)];
  if (warm.some((run) => !run.ok)) failed = true;

  const fleetRuns: Array<Awaited<ReturnType<typeof fleetRun>>> = [];
  const fanOutRuns: Array<Awaited<ReturnType<typeof fanOut>>> = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const fleetFirst = round % 2 === 0;
    if (fleetFirst) fleetRuns.push(await fleetRun('fleet-noop', SIZE));
    fanOutRuns.push(await fanOut(names));
    if (!fleetFirst) fleetRuns.push(await fleetRun('fleet-noop', SIZE));
  }
  if ([...fleetRuns, ...fanOutRuns].some((run) => !run.ok)) failed = true;

  // 4. Figures: time, throughput, ratio, histories.
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const fleetMs = mean(fleetRuns.map((run) => run.ms));
  const fanOutMs = mean(fanOutRuns.map((run) => run.ms));
  const shape = { targets: SIZE, rounds: ROUNDS, batch: '10%', batchSize: BATCH_SIZE, inFlight: concurrencyFor(SIZE) };
  emit('fleet_total', fleetMs, 'ms', { ...shape, samples: fleetRuns.map((run) => Math.round(run.ms)), succeeded: fleetRuns.every((run) => run.ok) });
  emit('fan_out_total', fanOutMs, 'ms', { ...shape, samples: fanOutRuns.map((run) => Math.round(run.ms)), succeeded: fanOutRuns.every((run) => run.ok) });
  const fleetRate = SIZE / (fleetMs / 1_000);
  const fanOutRate = SIZE / (fanOutMs / 1_000);
  const cpuOf = (runs: Array<{ cpu: { here: number; server: number } }>) => ({
    agentsProcessCpuS: Math.round(mean(runs.map((run) => run.cpu.here)) * 100) / 100,
    serverCpuS: Math.round(mean(runs.map((run) => run.cpu.server)) * 100) / 100,
  });
  emit('fleet_throughput', fleetRate, 'targets/s', { ...shape, ...cpuOf(fleetRuns) });
  emit('fan_out_throughput', fanOutRate, 'targets/s', { ...shape, ...cpuOf(fanOutRuns) });
  emit('throughput_ratio_fleet_vs_fan_out', fleetRate / fanOutRate, 'ratio', { ...shape, baseline: 'fan-out', aim: `>= ${AIM_RATIO}`, met: fleetRate / fanOutRate >= AIM_RATIO });

  const measured = fleetRuns.at(-1)!;
  const parent = await historySize(client, measured.id);
  const children: HistorySize[] = [];
  for (let batch = 1; batch <= measured.batchesRun; batch += 1) children.push(await historySize(client, `${measured.id}--fleet--${STEP}--${batch}`));
  if (children.length === 0) throw new Error(`fleet run ${measured.id} ran no batch`);
  const largest = children.reduce((big, child) => (child.events > big.events || (child.events === big.events && child.bytes > big.bytes) ? child : big), children[0]!);
  const limits = { eventLimit: 51_200, byteLimit: 50 * 1024 ** 2, payloadLimit: 2 * 1024 ** 2 };
  emit('parent_history_events', parent.events, 'events', { targets: SIZE, batches: measured.batches, workflowId: parent.workflowId, limit: limits.eventLimit });
  emit('parent_history_size', parent.bytes, 'bytes', { targets: SIZE, limit: limits.byteLimit, largestEventBytes: parent.largestEventBytes, payloadLimit: limits.payloadLimit });
  emit('largest_batch_history_events', largest.events, 'events', { targets: SIZE, batchSize: BATCH_SIZE, workflowId: largest.workflowId, limit: limits.eventLimit });
  emit('largest_batch_history_size', Math.max(...children.map((child) => child.bytes)), 'bytes', {
    targets: SIZE,
    limit: limits.byteLimit,
    largestEventBytes: Math.max(...children.map((child) => child.largestEventBytes)),
    payloadLimit: limits.payloadLimit,
  });
  const fanOutHistory = await historySize(client, fanOutRuns.at(-1)!.id, fanOutRuns.at(-1)!.firstRunId);
  emit('fan_out_history_events', fanOutHistory.events, 'events', { targets: SIZE, runs: fanOutRuns.at(-1)!.runs, note: 'the first run of the chain (2,000 nodes at most)' });

  // 5. The fleet view of that run, from Chromium (one load first, not counted: the web server's caches), and of the
  // warm-up run (a few targets) as a control: what the page costs whatever the fleet's size.
  const targetsPage: number[] = [];
  for (let sample = 0; sample < WEB_SAMPLES; sample += 1) {
    const begin = performance.now();
    await stack.api('GET', `/runs/${encodeURIComponent(measured.id)}/targets?step=${STEP}&limit=100`, undefined, accessToken);
    targetsPage.push(performance.now() - begin);
  }
  emit('api_targets_page_p50', percentile(targetsPage, 50), 'ms', { targets: SIZE, limit: 100, samples: WEB_SAMPLES, route: 'GET /runs/:id/targets' });
  const page = await signIn(stack.browser, stack.webUrl, ADMIN.email, ADMIN.password);
  for (const [name, runId, targets, cached] of [
    ['fleet_view', measured.id, SIZE, false],
    ['fleet_view_cached', measured.id, SIZE, true],
    ['control_fleet_view', warm[0]!.id, WARM_UP.length, false],
  ] as const) {
    const view = { webUrl: stack.webUrl, runId, stepId: STEP, succeeded: targets, warm: cached };
    const loads: FleetViewLoad[] = [];
    const failedLoads: string[] = [];
    for (let sample = -1; sample < WEB_SAMPLES; sample += 1) {
      try {
        const load = await loadFleetView(page, view);
        if (sample >= 0) loads.push(load);
      } catch (error) {
        failedLoads.push(error instanceof Error ? error.message : String(error));
        console.error(`${name}: ${failedLoads.at(-1)}`);
      }
    }
    if (failedLoads.length > 0) failed = true;
    if (loads.length === 0) continue;
    const usable = loads.map((load) => load.usableMs);
    const web = { targets, samples: loads.length, failedLoads: failedLoads.length, rows: Math.min(100, targets), cache: cached ? 'kept' : 'cleared before each load' };
    const phases = {
      countsShownP50: Math.round(
        percentile(
          loads.map((load) => load.countsMs),
          50,
        ),
      ),
      hydratedP50: Math.round(
        percentile(
          loads.map((load) => load.hydratedMs),
          50,
        ),
      ),
    };
    emit(`${name}_time_to_usable_p50`, percentile(usable, 50), 'ms', { ...web, ...phases });
    emit(`${name}_time_to_usable_p95`, percentile(usable, 95), 'ms', { ...web, ...(name === 'fleet_view' ? { aim: `< ${AIM_USABLE_MS}`, met: percentile(usable, 95) < AIM_USABLE_MS } : {}) });
  }
  emit('machine_load', os.loadavg()[0]!, 'load average (1 min)', { cpus: os.cpus().length });
} catch (error) {
  failed = true;
  console.error(error);
} finally {
  await cleanUp();
}
process.exit(failed ? 1 : 0);
