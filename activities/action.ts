// What an action is: the one registry entry that validates manifests, documents
// the action and performs it as a Temporal activity.
import { z } from 'zod';
import type { ActionDescription } from '../manifest/action-catalog.js';
import { parseDuration, DURATION_HINT } from '../manifest/duration.js';
import type { NodeStore } from '../infra/node-store.js';
import type { RunArtifacts } from '../artifacts/run-artifacts.js';
import type { ConnectionResolver } from '../security/connection-resolver.js';
import type { EgressAllowlistSource } from './http/egress-policy.js';
import type { ActionProcessPolicy } from './shell/action-sandbox.js';

/** Who a step belongs to; passed by the workflow to every activity. */
export interface StepContext {
  runId: string;
  stepId: string;
  runbook: string;
  environment: string;
  /** Values of inputs marked secret, redacted from log lines before they are stored. */
  secrets?: string[];
  /**
   * The attempts the manifest allows for the action's own failures: from this
   * attempt on, a failure is final. The retry policy allows a few more, for
   * attempts that end with their worker. Absent in runs started before.
   */
  maxAttempts?: number;
  /** A node-local action a fleet step routed over SSH (the node has no agent): which node, where, through which connection and login. */
  ssh?: { node: string; address: string; connection: string; user: string };
}

export interface OutputLine {
  stream: 'stdout' | 'stderr' | 'system';
  text: string;
  at: string;
}

/** How long a flush may wait for its lines to be stored, and what it does meanwhile. */
export interface FlushOptions {
  /** Called about every second while the flush waits, so the activity is not timed out. */
  heartbeat?: () => void;
  /** The time (ms since the epoch) by which the flush gives up; the lines stay buffered. */
  deadline?: number;
  /** Stops the wait (the activity was cancelled); the lines stay buffered. */
  signal?: AbortSignal;
}

/** Where activities send output lines as they happen (the run's log). */
export interface LineSink {
  write(step: StepContext, attempt: number, line: OutputLine): void;
  /** Resolves once the lines written so far are stored; rejects if they could not be in time. */
  flush(options?: FlushOptions): Promise<void>;
}

export interface ActionContext {
  step: StepContext;
  attempt: number;
  /** The Temporal execution (run id) of the step's workflow: a reset run publishes its artifacts apart. */
  executionId: string;
  signal: AbortSignal;
  /** How the action's processes are started: which user, which PATH. */
  processes: ActionProcessPolicy;
  log(stream: OutputLine['stream'], text: string): void;
  heartbeat(details?: unknown): void;
}

export interface ActionDependencies {
  lineSink: LineSink;
  /** Connections of the run's environment (absent on a worker without a database). */
  connections?: ConnectionResolver;
  /** Folder relative playbook paths are resolved against. */
  playbooksDir: string;
  /** The node inventory (absent on a worker without a database, and on agents). */
  nodes?: NodeStore;
  /** On an agent: the node it runs on (commands see it as JARVIS_NODE_NAME). */
  node?: { name: string; environment: string };
  /** On an agent: the node's own Docker socket, for node-local container actions. */
  dockerSocket?: string;
  /** Which user action processes run as, with which PATH (default: the worker's user, a fixed PATH). */
  processes?: ActionProcessPolicy;
  /** Which non-public addresses http and notify actions may reach, per environment (absent: public ones only). */
  egress?: EgressAllowlistSource;
  /** Where steps publish files (absent on a worker without a database, and on agents). */
  artifacts?: RunArtifacts;
}

/** An action's description, which manifests compile against, and how it is performed. */
export interface ActionDefinition<Input extends z.ZodObject = z.ZodObject, Output extends z.ZodType = z.ZodType> extends ActionDescription<Input> {
  output: Output;
  create(deps: ActionDependencies): (args: z.output<Input>, context: ActionContext) => Promise<z.input<Output>>;
}

export function defineAction<Input extends z.ZodObject, Output extends z.ZodType>(
  definition: ActionDefinition<Input, Output>,
): ActionDefinition<Input, Output> {
  return definition;
}

export const durationArgument = z
  .string()
  .refine((value) => parseDuration(value) !== undefined, { message: `not a duration: ${DURATION_HINT}` });

/** Template output is often a number or boolean; command arguments want text. */
export const textArgument = z.union([z.string(), z.number(), z.boolean()]).transform(String);
