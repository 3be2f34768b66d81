// How an action opens a client for a connection of its run's environment: a
// missing database, an unknown connection or a misconfigured one is final
// (retrying cannot fix it), so each becomes a non-retryable failure.
import { ApplicationFailure } from '@temporalio/activity';
import type { ResolvedConnection } from '../security/connection-resolver.js';
import type { ActionContext, ActionDependencies } from './action.js';

export async function openConnection<Client>(
  deps: ActionDependencies,
  context: ActionContext,
  name: string,
  open: (connection: ResolvedConnection) => Client,
  /** The error `open` throws for a connection it cannot use. */
  misconfigured: abstract new (...args: never[]) => Error,
): Promise<Client> {
  if (!deps.connections) throw ApplicationFailure.nonRetryable('this worker has no database, so it cannot reach connections', 'NoConnections');
  const connection = await deps.connections.resolve(context.step.environment, name);
  if (!connection) throw ApplicationFailure.nonRetryable(`no connection "${name}" in ${context.step.environment}`, 'UnknownConnection');
  try {
    return open(connection);
  } catch (error) {
    if (error instanceof misconfigured) throw ApplicationFailure.nonRetryable(error.message, 'BadConnection');
    throw error;
  }
}
