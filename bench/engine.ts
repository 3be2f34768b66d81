// `npm run bench:engine`: the interpreter against a minimal hand-written
// workflow calling the same three no-op activities, on one real dev server.
// Prints one JSON line per figure.
import type { ActivityInboundCallsInterceptor, ActivityExecuteInput, Next } from '@temporalio/worker';
import { Context } from '@temporalio/activity';
import path from 'node:path';
import { loadEnv, PROJECT_ROOT } from '../config/env.js';
import { runAuthorityOf } from '../security/run-authority.js';
import { actionCatalog } from '../activities/catalog.js';
import { loadManifest } from '../manifest/loader.js';
import type { RunInput } from '../manifest/types.js';
import { startLocalEngine } from '../test/local-engine.js';
import { emitterFor } from './figures.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 20);
const LATENCY_RUNS = Number(process.env.BENCH_LATENCY_RUNS ?? 50);
const TASK_QUEUE = 'bench-engine';
// Latency samples are spaced out so each start meets an idle system; started back to back, a
// run's first task races the previous run's last one (also reported, as *_back_to_back).
const GAP_MS = Number(process.env.BENCH_GAP_MS ?? 200);

const emit = emitterFor('engine');

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

/** When each workflow's first activity began, seen from inside the worker. */
const firstActivityAt = new Map<string, number>();
class FirstActivityRecorder implements ActivityInboundCallsInterceptor {
  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const info = Context.current().info;
    // The first step, not the interpreter's own local activities (the start's signature check).
    if (info.isLocal) return next(input);
    const workflowId = info.workflowExecution?.workflowId ?? '';
    if (!firstActivityAt.has(workflowId)) firstActivityAt.set(workflowId, Date.now());
    return next(input);
  }
}

const compiled = loadManifest({
  name: 'bench-three-noops',
  title: 'Three no-op steps',
  steps: [
    { id: 'one', action: 'core.noop', with: { message: 'one' } },
    { id: 'two', action: 'core.noop', with: { message: 'two' } },
    { id: 'three', action: 'core.noop', with: { message: 'three' } },
  ],
}, actionCatalog);
if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
const runInput: RunInput = { runbook: compiled.compiled.runbook, children: {}, inputs: {}, environment: 'dev', startedBy: 'bench' };

const engine = await startLocalEngine({
  name: 'bench',
  taskQueue: TASK_QUEUE,
  workflowsPath: path.join(PROJECT_ROOT, 'bench', 'workflows.ts'),
  interceptors: { activity: [() => ({ inbound: new FirstActivityRecorder() })] },
});
const client = engine.client;
// Runs are signed as the API signs them: the interpreter checks it before its first step.
const authority = runAuthorityOf(loadEnv());

type Kind = 'interpreter' | 'handwritten';
let sequence = 0;

async function oneRun(kind: Kind): Promise<number> {
  const workflowId = `bench-${kind}-${(sequence += 1)}`;
  const startedAt = Date.now();
  const handle =
    kind === 'interpreter'
      ? await client.workflow.start('runbookInterpreter', { taskQueue: TASK_QUEUE, workflowId, args: [{ ...runInput, authorization: authority.signStart(workflowId, runInput) }] })
      : await client.workflow.start('handwrittenThreeSteps', { taskQueue: TASK_QUEUE, workflowId, args: [] });
  await handle.result();
  return (firstActivityAt.get(workflowId) ?? NaN) - startedAt;
}

async function throughput(kind: Kind, runs: number): Promise<number> {
  const started = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < runs) {
        next += 1;
        await oneRun(kind);
      }
    }),
  );
  return runs / ((Date.now() - started) / 1_000);
}

async function latencies(kind: Kind, runs: number, gapMs = GAP_MS): Promise<number[]> {
  const values: number[] = [];
  for (let index = 0; index < runs; index += 1) {
    values.push(await oneRun(kind));
    await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
  return values;
}

try {
  // Warm up both paths (bundle loaded, caches filled) one run at a time.
  for (const kind of ['interpreter', 'handwritten'] as Kind[]) await latencies(kind, 10);
  const quiet: Record<Kind, number[]> = { interpreter: [], handwritten: [] };
  for (const kind of ['interpreter', 'handwritten'] as Kind[]) quiet[kind] = await latencies(kind, LATENCY_RUNS);
  const rate: Record<Kind, number[]> = { interpreter: [], handwritten: [] };
  // Alternate halves so neither kind always runs on a fresher server.
  for (const kind of ['handwritten', 'interpreter', 'interpreter', 'handwritten'] as Kind[]) rate[kind].push(await throughput(kind, RUNS / 2));
  const backToBack: Record<Kind, number[]> = { interpreter: [], handwritten: [] };
  for (const kind of ['interpreter', 'handwritten'] as Kind[]) backToBack[kind] = await latencies(kind, LATENCY_RUNS, 0);

  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  for (const kind of ['interpreter', 'handwritten'] as Kind[]) {
    emit(`${kind}_runs_per_second`, mean(rate[kind]), 'runs/s', { runs: RUNS, concurrency: CONCURRENCY });
    emit(`${kind}_first_step_p50`, percentile(quiet[kind], 50), 'ms', { runs: LATENCY_RUNS, gapMs: GAP_MS });
    emit(`${kind}_first_step_p99`, percentile(quiet[kind], 99), 'ms', { runs: LATENCY_RUNS, gapMs: GAP_MS });
    emit(`${kind}_first_step_p50_back_to_back`, percentile(backToBack[kind], 50), 'ms', { runs: LATENCY_RUNS, gapMs: 0 });
    emit(`${kind}_first_step_p99_back_to_back`, percentile(backToBack[kind], 99), 'ms', { runs: LATENCY_RUNS, gapMs: 0 });
  }
  const ratio = mean(rate.interpreter) / mean(rate.handwritten);
  emit('throughput_ratio_interpreter_vs_handwritten', ratio, 'ratio', { baseline: 'handwritten', aim: '>= 0.8', met: ratio >= 0.8 });
  const p50 = percentile(quiet.interpreter, 50);
  emit('interpreter_first_step_p50_vs_aim', p50, 'ms', { aim: '<= 50', met: p50 <= 50 });
} finally {
  await engine.stop();
}
process.exit(0);
