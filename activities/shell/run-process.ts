import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { OutputLine } from '../action.js';
import { DEFAULT_PROCESS_POLICY, type ProcessIdentity } from './action-sandbox.js';

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

/**
 * Runs a process in its own process group, reads stdout and stderr line by
 * line, and kills the whole group on timeout or cancellation.
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
