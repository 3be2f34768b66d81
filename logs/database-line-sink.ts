// The worker's line sink: buffers output lines briefly, redacts secrets, and
// appends them to the run's log in small batches.
import type { LineSink, OutputLine, StepContext } from '../activities/action.js';
import { redact } from '../manifest/redact.js';
import type { NewLine, RunLogStore } from './run-log-store.js';

const FLUSH_EVERY_MS = 50;
const FLUSH_AT_LINES = 500;

export class DatabaseLineSink implements LineSink {
  private readonly pending = new Map<string, NewLine[]>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: RunLogStore,
    private readonly onError: (error: unknown) => void = (error) => console.error('could not store log lines', error),
  ) {}

  write(step: StepContext, attempt: number, line: OutputLine): void {
    const lines = this.pending.get(step.runId) ?? [];
    lines.push({ stepId: step.stepId, attempt, stream: line.stream, at: line.at, text: redact(line.text, step.secrets ?? []) });
    this.pending.set(step.runId, lines);
    if (lines.length >= FLUSH_AT_LINES) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_EVERY_MS);
  }

  /** Stores what is buffered; batches go out one after another so each run's lines keep their order. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batches = [...this.pending.entries()];
    this.pending.clear();
    this.flushing = this.flushing.then(async () => {
      for (const [runId, lines] of batches) await this.store.append(runId, lines).catch(this.onError);
    });
    return this.flushing;
  }
}
