// The worker's line sink: buffers output lines briefly, redacts secrets, and
// appends them to the run's log in batches. A batch the database does not take
// is sent again with backoff under the same id, so the store keeps it once even
// when an earlier try was stored and only its answer was lost. The buffer is
// bounded: past it, lines are dropped and the run's log says how many and why.
import { randomUUID } from 'node:crypto';
import type { FlushOptions, LineSink, OutputLine, StepContext } from '../activities/action.js';
import { redact } from '../manifest/redact.js';
import type { NewLine, RunLogStore } from './run-log-store.js';

const FLUSH_EVERY_MS = 50;
const FLUSH_AT_LINES = 500;
/** How often a waiting flush reports life (heartbeats), at most. */
const WAIT_BEAT_MS = 1_000;

export interface DatabaseLineSinkOptions {
  /** Lines held while the database does not take them; later ones are dropped and counted. */
  maxBufferedLines?: number;
  /** How long a flush waits for its lines to be stored before it gives up (they stay buffered). */
  flushTimeoutMs?: number;
  retry?: { initialMs: number; maxMs: number };
  /** Told when storing starts failing (once per outage) and when a batch cannot be stored at all. */
  onError?: (error: unknown) => void;
}

/** A flush ran out of time: the lines it waited for are still buffered and retried. */
export class LogStoreUnavailableError extends Error {
  override name = 'LogStoreUnavailable';
}

/** An output line, or a note the sink itself adds to the run's log. */
type PendingLine = { kind: 'line'; line: NewLine } | { kind: 'dropped'; line: NewLine; count: number } | { kind: 'unstored'; line: NewLine };

interface Batch {
  id: string;
  runId: string;
  lines: PendingLine[];
  /** Batches are numbered in the order they are sent; a flush waits for a number. */
  number: number;
}

export class DatabaseLineSink implements LineSink {
  private readonly pending = new Map<string, PendingLine[]>();
  private readonly queue: Batch[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly maxBufferedLines: number;
  private readonly flushTimeoutMs: number;
  private readonly retry: { initialMs: number; maxMs: number };
  private readonly onError: (error: unknown) => void;
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  /** Output lines written and not yet stored (or given up on). */
  private buffered = 0;
  private lastFormed = 0;
  /** Every batch up to this number is stored (or given up on). */
  private lastSettled = 0;

  constructor(
    private readonly store: RunLogStore,
    options: DatabaseLineSinkOptions = {},
  ) {
    this.maxBufferedLines = options.maxBufferedLines ?? 50_000;
    this.flushTimeoutMs = options.flushTimeoutMs ?? 60_000;
    this.retry = options.retry ?? { initialMs: 100, maxMs: 5_000 };
    this.onError = options.onError ?? ((error) => console.error('could not store log lines', error));
  }

  write(step: StepContext, attempt: number, line: OutputLine): void {
    const lines = this.pending.get(step.runId) ?? [];
    this.pending.set(step.runId, lines);
    if (this.buffered >= this.maxBufferedLines) {
      const last = lines[lines.length - 1];
      if (last?.kind === 'dropped') last.count += 1;
      else lines.push({ kind: 'dropped', count: 1, line: { stepId: step.stepId, attempt, stream: 'system', at: line.at, text: '' } });
    } else {
      this.buffered += 1;
      lines.push({ kind: 'line', line: { stepId: step.stepId, attempt, stream: line.stream, at: line.at, text: redact(line.text, step.secrets ?? []) } });
    }
    if (lines.length >= FLUSH_AT_LINES) this.send();
    else this.timer ??= setTimeout(() => this.send(), FLUSH_EVERY_MS);
  }

  /** Resolves once every line written before the call is stored; rejects with LogStoreUnavailableError past the timeout or deadline. */
  async flush(options: FlushOptions = {}): Promise<void> {
    this.send();
    const target = this.lastFormed;
    const deadline = Math.min(Date.now() + this.flushTimeoutMs, options.deadline ?? Infinity);
    while (this.lastSettled < target) {
      if (options.signal?.aborted) throw options.signal.reason;
      const left = deadline - Date.now();
      if (left <= 0) {
        const unstored = this.queue.filter((batch) => batch.number <= target).reduce((sum, batch) => sum + batch.lines.length, 0);
        throw new LogStoreUnavailableError(`${unstored} log lines are not stored yet: the run log database did not take them in time; they are kept and retried`);
      }
      await this.settledOrAfter(Math.min(left, WAIT_BEAT_MS), options.signal);
      options.heartbeat?.();
    }
  }

  /** Forms batches of what is pending and makes sure they are being sent. */
  private send(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const [runId, lines] of this.pending) {
      if (lines.length > 0) this.queue.push({ id: randomUUID(), runId, lines, number: ++this.lastFormed });
    }
    this.pending.clear();
    if (this.queue.length > 0) this.drain();
  }

  private drain(): void {
    this.draining ??= this.storeQueued().finally(() => {
      this.draining = undefined;
      if (this.queue.length > 0) this.drain();
    });
  }

  /** Stores batches one after another, so each run's lines keep their order; a failing batch is retried until the database takes it. */
  private async storeQueued(): Promise<void> {
    let delay = this.retry.initialMs;
    let failing = false;
    for (let batch = this.queue[0]; batch; batch = this.queue[0]) {
      try {
        await this.store.append(batch.runId, batch.lines.map((line) => this.toNewLine(line)), batch.id);
      } catch (error) {
        if (!isAboutTheLines(error)) {
          if (!failing) this.onError(error);
          failing = true;
          await sleep(delay);
          delay = Math.min(delay * 2, this.retry.maxMs);
          continue;
        }
        // Retrying the same lines cannot help: the log says they are missing instead.
        this.onError(error);
        this.noteUnstored(batch, error);
      }
      failing = false;
      delay = this.retry.initialMs;
      this.queue.shift();
      this.buffered -= batch.lines.filter((line) => line.kind === 'line').length;
      this.lastSettled = batch.number;
      for (const wake of [...this.waiters]) wake();
    }
  }

  private noteUnstored(batch: Batch, error: unknown): void {
    const lost = batch.lines.filter((line) => line.kind !== 'unstored');
    const first = lost[0]?.line;
    if (!first) return;
    const count = lost.reduce((sum, line) => sum + (line.kind === 'dropped' ? line.count : 1), 0);
    const reason = error instanceof Error ? error.message : String(error);
    const lines = this.pending.get(batch.runId) ?? [];
    lines.unshift({ kind: 'unstored', line: { ...first, stream: 'system', text: `[jarvis] ${count} log lines could not be stored and were dropped: ${reason}` } });
    this.pending.set(batch.runId, lines);
    this.timer ??= setTimeout(() => this.send(), FLUSH_EVERY_MS);
  }

  private toNewLine(pending: PendingLine): NewLine {
    if (pending.kind !== 'dropped') return pending.line;
    const why = `the run log database did not take lines in time and the worker already held ${this.maxBufferedLines} unstored lines`;
    return { ...pending.line, text: `[jarvis] ${pending.count} log lines were dropped: ${why}` };
  }

  private settledOrAfter(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

/**
 * Errors about the data itself (SQLSTATE class 22, data exception; 54, a limit
 * exceeded) stay the same however often the batch is sent. Anything else (a
 * refused or dropped connection, a restarting server, a deadlock) may pass.
 */
function isAboutTheLines(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|54)[0-9A-Z]{3}$/.test(code);
}

/** Backoff between tries; it does not keep a process alive on its own (a waiting flush does). */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
