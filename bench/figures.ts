// Every bench's figures: one JSON line each on stdout, and the same line,
// with when, at which commit and on which machine it was measured, appended
// to bench/results.jsonl (committed, append-only), so a figure quoted in the
// README can be traced to its run. BENCH_RESULTS=0 prints without appending
// (test runs, trials while tuning).
import { execFileSync } from 'node:child_process';
import { appendFileSync, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../config/env.js';

export const RESULTS_FILE = path.join(PROJECT_ROOT, 'bench', 'results.jsonl');
const RUN_STARTED = new Date(Date.now() - performance.now()).toISOString();

export interface Machine {
  host: string;
  cpu: string;
  cpus: number;
  memoryGiB: number;
  os: string;
  node: string;
}

export interface Provenance {
  /** When the bench process started: every figure of one run shares it. */
  run: string;
  commit: string;
  /** Present when tracked files differed from the commit (or new files existed) when the run started. */
  dirty?: true;
  machine: Machine;
  /** The machine's 1-minute load average as the bench started: figures taken on a busy machine say so. */
  loadAverage: number;
}

export interface Figure extends Record<string, unknown> {
  bench: string;
  metric: string;
  value: number;
  unit: string;
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  return {
    host: os.hostname(),
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cpus: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: `${os.type()} ${os.release()}`,
    node: process.version,
  };
}

function git(args: string[], cwd: string): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

/**
 * The commit measured and whether the tree had changes. The results file
 * itself (appended by the benches) and a node_modules link do not count.
 */
export function describeCommit(cwd = PROJECT_ROOT, resultsFile = RESULTS_FILE): { commit: string; dirty: boolean } {
  try {
    const commit = git(['rev-parse', '--short', 'HEAD'], cwd).trim();
    // Porcelain paths are relative to the top of the tree, which git gives with links resolved.
    const results = path.relative(git(['rev-parse', '--show-toplevel'], cwd).trim(), path.join(realpathSync(path.dirname(resultsFile)), path.basename(resultsFile)));
    const changed = git(['status', '--porcelain'], cwd)
      .split('\n')
      .map((line) => line.slice(3).trim())
      .filter((file) => file && file !== results && file !== 'node_modules' && !file.startsWith('node_modules/'));
    return { commit, dirty: changed.length > 0 };
  } catch {
    // Not a git checkout (an unpacked release): the figures still say so rather than being lost.
    return { commit: 'unknown', dirty: false };
  }
}

/** Whether figures are appended to the results file: BENCH_RESULTS=0 turns it off. */
export function appendingEnabled(setting: string | undefined): boolean {
  if (setting === undefined || setting === '' || setting === '1') return true;
  if (setting === '0') return false;
  throw new Error(`BENCH_RESULTS must be 0 (print only) or 1 (also append to ${path.relative(PROJECT_ROOT, RESULTS_FILE)}), not ${JSON.stringify(setting)}`);
}

/** Three decimals: enough for ratios, and milliseconds stay readable. */
function rounded(value: number): number {
  return Number.isFinite(value) ? Math.round(value * 1_000) / 1_000 : value;
}

/** Prints figures and, when enabled, appends them with their provenance to a results file. */
export class FigureLog {
  private provenance: Provenance | undefined;

  constructor(private readonly options: { file: string; append: boolean; cwd?: string; out?: (line: string) => void }) {
    // The tree as the bench starts: edits made while it runs are not what it measured.
    if (options.append) this.describeRun();
  }

  emit(bench: string, metric: string, value: number, unit: string, extra: Record<string, unknown> = {}): Figure {
    const figure: Figure = { bench, metric, value: rounded(value), unit, ...extra };
    (this.options.out ?? console.log)(JSON.stringify(figure));
    if (this.options.append) appendFileSync(this.options.file, `${JSON.stringify({ ...figure, date: new Date().toISOString(), ...this.describeRun() })}\n`);
    return figure;
  }

  /** Taken once, when the log is made (before any figure is appended, which changes the results file). */
  private describeRun(): Provenance {
    if (!this.provenance) {
      const { commit, dirty } = describeCommit(this.options.cwd, this.options.file);
      this.provenance = { run: RUN_STARTED, commit, ...(dirty ? { dirty: true as const } : {}), machine: describeMachine(), loadAverage: Math.round(os.loadavg()[0]! * 100) / 100 };
    }
    return this.provenance;
  }
}

let defaultLog: FigureLog | undefined;

function benchFigureLog(): FigureLog {
  defaultLog ??= new FigureLog({ file: RESULTS_FILE, append: appendingEnabled(process.env.BENCH_RESULTS) });
  return defaultLog;
}

/** One figure of a bench: printed, and appended to bench/results.jsonl unless BENCH_RESULTS=0. */
export function emit(bench: string, metric: string, value: number, unit: string, extra: Record<string, unknown> = {}): Figure {
  return benchFigureLog().emit(bench, metric, value, unit, extra);
}

/** `emit` for one bench: `const emit = emitterFor('rag'); emit('search_p99', 6.1, 'ms')`. */
export function emitterFor(bench: string): (metric: string, value: number, unit: string, extra?: Record<string, unknown>) => Figure {
  const log = benchFigureLog(); // made as the bench starts, so its provenance is the tree it measures
  return (metric, value, unit, extra) => log.emit(bench, metric, value, unit, extra);
}

/** A bench's size from the environment (BENCH_SAMPLES=20), a positive integer, or the default. */
export function sizeFromEnv(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text.replaceAll('_', ''));
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive whole number, not ${JSON.stringify(text)}`);
  return value;
}
