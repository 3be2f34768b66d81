// Builds the worker's activities from the action catalog: one activity per
// action, named by its id (`shell.run`), each validating its arguments and
// reporting which attempt produced its result.
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { formatErrors, zodIssuesToErrors } from '../manifest/errors.js';
import { redact } from '../manifest/redact.js';
import type { ActionContext, ActionDefinition, ActionDependencies, StepContext } from './action.js';
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

function toActivity(action: ActionDefinition, deps: ActionDependencies): ActionActivity {
  const perform = action.create(deps);
  return async (args, step) => {
    const activity = Context.current();
    const attempt = activity.info.attempt;
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
      signal: activity.cancellationSignal,
      processes: deps.processes ?? DEFAULT_PROCESS_POLICY,
      log: (stream, text) => deps.lineSink.write(step, attempt, { stream, text, at: new Date().toISOString() }),
      heartbeat: (details) => activity.heartbeat(details),
    };
    try {
      const output = await perform(parsed.data, context);
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
      await deps.lineSink.flush();
    }
  };
}

/** `main`: what the installation's workers run; `node`: what a node's agent runs on its own machine. */
export function createActivities(deps: ActionDependencies, where: 'main' | 'node' = 'main'): Record<string, ActionActivity> {
  const actions = actionCatalog.filter((action) => (action.runsOn === 'node') === (where === 'node'));
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
