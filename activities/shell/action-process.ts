import { CancelledFailure } from '@temporalio/activity';
import type { ActionContext } from '../action.js';
import { runProcess, type ProcessResult, type RunProcessOptions } from './run-process.js';

const HEARTBEAT_EVERY_MS = 1_000;

/**
 * Runs a process for an action: every line goes to the action's log, the
 * activity heartbeats while it runs (so a lost worker is noticed and a cancel
 * is delivered), and a cancelled activity kills the process group.
 */
export async function runActionProcess(
  context: ActionContext,
  options: Omit<RunProcessOptions, 'signal' | 'onLine'>,
): Promise<ProcessResult> {
  let lineCount = 0;
  const beat = setInterval(() => context.heartbeat({ lines: lineCount }), HEARTBEAT_EVERY_MS);
  try {
    const result = await runProcess({
      ...options,
      signal: context.signal,
      onLine: (line) => {
        lineCount += 1;
        context.log(line.stream, line.text);
      },
    });
    if (result.cancelled) throw new CancelledFailure('the step was cancelled; its process was killed');
    return result;
  } finally {
    clearInterval(beat);
  }
}
