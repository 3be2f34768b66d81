import { CancelledFailure } from '@temporalio/activity';
import type { ActionContext } from '../action.js';
import { actionEnvironment, withPrivateFolder } from './action-sandbox.js';
import { runProcess, type ProcessResult, type RunProcessOptions } from './run-process.js';

const HEARTBEAT_EVERY_MS = 1_000;

export interface ActionProcessOptions extends Omit<RunProcessOptions, 'signal' | 'onLine' | 'user' | 'env'> {
  /** Variables the process needs, on top of the minimal environment every action process gets. */
  env?: Record<string, string>;
  /** A private folder the action already holds (its HOME and default working directory); else one is made for this process. */
  home?: string;
}

/**
 * Runs a process for an action: as the action user with a minimal
 * environment and a private home (see action-sandbox.ts), every line to the
 * action's log, heartbeating while it runs (so a lost worker is noticed and a
 * cancel is delivered); a cancelled activity kills the process group.
 */
export async function runActionProcess(context: ActionContext, options: ActionProcessOptions): Promise<ProcessResult> {
  if (options.home !== undefined) return runInHome(context, options, options.home);
  return withPrivateFolder(context.processes, 'jarvis-action-', (home) => runInHome(context, options, home));
}

async function runInHome(context: ActionContext, options: ActionProcessOptions, home: string): Promise<ProcessResult> {
  let lineCount = 0;
  const beat = setInterval(() => context.heartbeat({ lines: lineCount }), HEARTBEAT_EVERY_MS);
  try {
    const result = await runProcess({
      command: options.command,
      args: options.args,
      cwd: options.cwd ?? home,
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      env: actionEnvironment(context.processes, home, options.env),
      ...(context.processes.user ? { user: context.processes.user } : {}),
      ...(context.processes.ledger ? { ledger: context.processes.ledger } : {}),
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
