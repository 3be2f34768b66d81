import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { OutputLine } from '../action.js';
import { DEFAULT_PROCESS_POLICY, type ProcessIdentity } from './action-sandbox.js';
import type { ProcessLedger } from './process-ledger.js';

export interface RunProcessOptions {
  command: string;
  args: string[];
  /** The whole environment of the process: nothing of the worker's own is passed on. */
  env?: Record<string, string>;
  /** Another user to run as (the worker must be root). */
  user?: ProcessIdentity;
  cwd?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  onLine?(line: OutputLine): void;
  /** Where the worker records the groups it started, for the next worker to end after a crash. */
  ledger?: ProcessLedger;
}

export interface ProcessResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  cancelled: boolean;
  durationMs: number;
  lines: OutputLine[];
  lineCount: number;
}

/** The last lines a process printed, for a failure message. */
export function lastLines(result: { lines: Array<{ text: string }> }, count = 5): string {
  return result.lines
    .slice(-count)
    .map((line) => line.text)
    .join('\n');
}

/** How many of the last lines a result keeps: outputs end up in the run history. */
export const KEPT_LINES = 500;

// Reads the worker's pipe: a line means the process ended and the watchdog
// leaves; end of file without one means the worker died, and the group dies too.
const WATCHDOG_SCRIPT = 'read -r _ || kill -KILL -"$1"';

/**
 * Starts the watchdog of a process group: a small shell that outlives the
 * worker only to kill the group once the worker is gone (however it ended,
 * SIGKILL included, the kernel closes the worker's end of the pipe). It runs
 * as the group's user, with nothing of the worker's environment.
 */
function watchGroup(pgid: number, user: ProcessIdentity | undefined): { release(): void } {
  const watchdog: ChildProcess = spawn('/bin/sh', ['-c', WATCHDOG_SCRIPT, 'jarvis-watchdog', String(pgid)], {
    env: { PATH: DEFAULT_PROCESS_POLICY.path },
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
    cwd: '/',
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  // A watchdog that is gone has nothing left to hear; the ledger is the second line.
  watchdog.on('error', () => {});
  watchdog.stdin!.on('error', () => {});
  // Not waited for: the worker's event loop must not stay up for its watchdogs.
  watchdog.unref();
  return { release: () => watchdog.stdin!.end('ended\n') };
}

/**
 * Runs a process in its own process group, reads stdout and stderr line by
 * line, and kills the whole group on timeout or cancellation, or when the
 * worker itself dies (see watchGroup).
 */
export function runProcess(options: RunProcessOptions): Promise<ProcessResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env ?? { PATH: DEFAULT_PROCESS_POLICY.path },
      ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {}),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const watchdog = child.pid !== undefined ? watchGroup(child.pid, options.user) : undefined;
    const forget = child.pid !== undefined ? options.ledger?.record(child.pid) : undefined;
    const lines: OutputLine[] = [];
    let lineCount = 0;
    let timedOut = false;
    let cancelled = false;
    const killGroup = () => {
      if (child.pid === undefined || child.exitCode !== null) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const collect = (stream: 'stdout' | 'stderr') => (text: string) => {
      const line: OutputLine = { stream, text, at: new Date().toISOString() };
      lineCount += 1;
      lines.push(line);
      if (lines.length > KEPT_LINES) lines.shift();
      options.onLine?.(line);
    };
    const stdoutDone = new Promise<void>((done) => createInterface({ input: child.stdout }).on('line', collect('stdout')).on('close', done));
    const stderrDone = new Promise<void>((done) => createInterface({ input: child.stderr }).on('line', collect('stderr')).on('close', done));
    const timer = options.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          killGroup();
        }, options.timeoutMs)
      : undefined;
    const onAbort = () => {
      cancelled = true;
      killGroup();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error) => {
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      reject(error);
    });
    child.on('exit', (exitCode, signal) => {
      watchdog?.release();
      forget?.();
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      void Promise.all([stdoutDone, stderrDone]).then(() =>
        resolve({ exitCode, signal, timedOut, cancelled, durationMs: Date.now() - started, lines, lineCount }),
      );
    });
  });
}

export function tailText(lines: OutputLine[], stream: OutputLine['stream'], maxChars = 4_000): string {
  const text = lines
    .filter((line) => line.stream === stream)
    .map((line) => line.text)
    .join('\n');
  return text.length > maxChars ? text.slice(text.length - maxChars) : text;
}
