// Builds the worker's activities from the action catalog: one activity per
// action, named by its id (`shell.run`), each validating its arguments and
// reporting which attempt produced its result.
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { formatErrors, zodIssuesToErrors } from '../manifest/errors.js';
import { redact } from '../manifest/redact.js';
import type { ActionContext, ActionDefinition, ActionDependencies, LineSink, StepContext } from './action.js';
import { actionCatalog } from './catalog.js';
import { DEFAULT_PROCESS_POLICY } from './shell/action-sandbox.js';

/** What every action activity returns to the workflow. */
export interface ActionResult {
  output: unknown;
  attempt: number;
}

/** Failure details the workflow reads to show attempts in progress. */
export interface ActionFailureDetails {
  attempt: number;
}

export type ActionActivity = (args: unknown, step: StepContext) => Promise<ActionResult>;

/** Time left to report a result after the final flush gives up, before the attempt's start-to-close timeout. */
const FLUSH_MARGIN_MS = 2_000;

/**
 * Waits until the attempt's lines are stored, heartbeating with the action's
 * last details meanwhile. A successful attempt whose lines the database did not
 * take in time fails, retryably, rather than complete without them; a failed
 * attempt keeps its own failure (its lines stay buffered and are stored later).
 */
async function storeLines(sink: LineSink, context: ActionContext, startedAt: number, succeeded: boolean, lastBeat: () => unknown): Promise<void> {
  const activity = Context.current();
  const timeoutMs = activity.info.startToCloseTimeoutMs;
  try {
    await sink.flush({
      heartbeat: () => activity.heartbeat(lastBeat()),
      signal: context.signal,
      ...(timeoutMs > 0 ? { deadline: startedAt + timeoutMs - FLUSH_MARGIN_MS } : {}),
    });
  } catch (error) {
    if (!succeeded) return;
    if (context.signal.aborted) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    context.log('system', `attempt ${context.attempt} succeeded but its log lines could not be stored in time: ${reason}`);
    throw ApplicationFailure.create({
      message: `the step's log lines could not be stored: ${reason}`,
      type: 'LogStoreUnavailable',
      nonRetryable: false,
      details: [{ attempt: context.attempt } satisfies ActionFailureDetails],
    });
  }
}

function toActivity(action: ActionDefinition, deps: ActionDependencies): ActionActivity {
  const perform = action.create(deps);
  return async (args, step) => {
    const activity = Context.current();
    const attempt = activity.info.attempt;
    const startedAt = Date.now();
    let lastBeat: unknown;
    let succeeded = false;
    const parsed = action.input.safeParse(args ?? {});
    if (!parsed.success) {
      throw ApplicationFailure.nonRetryable(
        `invalid arguments for ${action.id}:\n${formatErrors(zodIssuesToErrors('with', parsed.error.issues))}`,
        'InvalidArguments',
      );
    }
    const context: ActionContext = {
      step,
      attempt,
      executionId: activity.info.workflowExecution?.runId ?? '',
      signal: activity.cancellationSignal,
      processes: deps.processes ?? DEFAULT_PROCESS_POLICY,
      log: (stream, text) => deps.lineSink.write(step, attempt, { stream, text, at: new Date().toISOString() }),
      heartbeat: (details) => activity.heartbeat((lastBeat = details)),
    };
    try {
      const output = await perform(parsed.data, context);
      succeeded = true;
      return { output, attempt };
    } catch (error) {
      if (error instanceof CancelledFailure) throw error;
      const failure = error instanceof Error ? error : new Error(String(error));
      const original = failure instanceof ApplicationFailure ? failure : undefined;
      // Failure messages are kept in clear in Temporal's history: secrets must not reach them.
      const message = redact(failure.message, step.secrets ?? []);
      context.log('system', `attempt ${attempt} failed: ${message}`);
      throw ApplicationFailure.create({
        message,
        type: original?.type ?? failure.name,
        // The manifest's attempts bound the action's own failures; only a lost worker earns the extra ones.
        nonRetryable: (original?.nonRetryable ?? false) || (step.maxAttempts !== undefined && attempt >= step.maxAttempts),
        details: [{ attempt } satisfies ActionFailureDetails, ...(original?.details ?? [])],
      });
    } finally {
      // A thrown flush failure replaces the result: success is reported only once the lines are stored.
      await storeLines(deps.lineSink, context, startedAt, succeeded, () => lastBeat);
    }
  };
}

/** `main`: what the installation's workers run; `node`: what a node's agent runs on its own machine. */
export function createActivities(deps: ActionDependencies, where: 'main' | 'node' = 'main'): Record<string, ActionActivity> {
  // Main workers also run the node-local actions that reach a node without an agent over SSH.
  const actions = actionCatalog.all.filter((action) => (where === 'node' ? action.runsOn === 'node' : action.runsOn !== 'node' || action.overSsh === true));
  return Object.fromEntries(actions.map((action) => [action.id, toActivity(action, deps)]));
}

/** Writes output lines to the worker's standard output, prefixed with run and step. */
export function createConsoleLineSink(write: (text: string) => void = (text) => process.stdout.write(text)) {
  return {
    write(step: StepContext, attempt: number, line: { stream: string; text: string }) {
      write(`[${step.runId} ${step.stepId}#${attempt} ${line.stream}] ${line.text}\n`);
    },
    async flush() {},
  };
}
