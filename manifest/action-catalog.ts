// What the manifest compiler knows of actions: their description, never their
// implementation. The catalog is handed to the compiler by its callers
// (activities/catalog.ts builds it), so compiling a manifest does not load
// Docker, SSH or cloud clients.
import type { z } from 'zod';

export type RiskLevel = 'low' | 'medium' | 'high';

export interface ActionDefaults {
  timeout: string;
  heartbeatTimeout?: string;
  retry: {
    maxAttempts: number;
    initialInterval: string;
    backoff: number;
    maxInterval: string;
    nonRetryable?: string[];
  };
}

export interface ActionDescription<Input extends z.ZodObject = z.ZodObject> {
  id: string;
  title: string;
  description: string;
  risk: RiskLevel;
  /** Checks a step's literal arguments when the manifest compiles. */
  input: Input;
  /** Attempts and timeouts of a step that does not set its own. */
  defaults: ActionDefaults;
  /**
   * `node`: the action runs on a node's agent (its own task queue), so a step
   * using it must name the node; every other action runs on the main workers.
   */
  runsOn?: 'node';
  /**
   * A node-local action that can also reach a node without an agent over
   * SSH (a fleet step routes such targets through the main workers).
   */
  overSsh?: boolean;
}

export interface ActionCatalog<Action extends ActionDescription = ActionDescription> {
  /** Every action, in the order they are documented. */
  readonly all: readonly Action[];
  find(id: string): Action | undefined;
}

export function actionCatalogOf<Action extends ActionDescription>(actions: readonly Action[]): ActionCatalog<Action> {
  const byId = new Map(actions.map((action) => [action.id, action]));
  return { all: actions, find: (id) => byId.get(id) };
}
