// Starting runs: a catalog runbook or a compiled manifest, checked inputs, a
// signed workflow input, and ids that make keyed and idempotent starts happen
// once (runs/run-ids.ts).
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { RunbookCatalog } from '../manifest/catalog.js';
import { JarvisProblem } from '../manifest/errors.js';
import type { CompiledManifest, LoadResult } from '../manifest/loader.js';
import { renderString } from '../manifest/template.js';
import type { RunInput } from '../manifest/types.js';
import type { RunAuthority } from '../security/run-authority.js';
import { runSearchAttributes, STARTED_BY_ATTRIBUTE, type RunAttributes } from '../workflows/search-attributes.js';
import { validateRunInputs } from './inputs.js';
import { INTERPRETER_WORKFLOW, type StartedRun } from './run-contract.js';
import { IDEMPOTENCY_MEMO, idempotentRunId, keyedRunId, newRunId } from './run-ids.js';

export interface StartRunRequest {
  /** A catalog runbook's name, or an already compiled manifest (e.g. a file given to the CLI). */
  runbook: string | CompiledManifest;
  inputs: Record<string, unknown>;
  environment: string;
  startedBy: string;
  rerunOf?: string;
  /** The AI Ops plan the run executes. */
  planId?: string;
  /** From `idempotencyToken`: a retried start with the same token answers the run the first one started. */
  idempotency?: string;
  /** A re-run on some targets: the node names of each fleet step (by id). */
  fleetTargets?: Record<string, string[]>;
  /** The schedule whose fire starts the run (its owner is `startedBy`). */
  scheduleId?: string;
}

/** A start made ready: what `startRun` sends to Temporal, or a schedule's workflow starts as its child. */
export interface PlannedStart {
  id: string;
  /** Signed for `id`. */
  input: RunInput;
  attributes: RunAttributes;
  /** The concurrency key's value, when the runbook has one. */
  key?: string;
  token?: string;
  /** Holds the token, compared when Temporal reports the id already taken. */
  memo?: Record<string, string>;
}

/** Crash points for tests: where a start can be interrupted as a killed process would interrupt it. */
export interface RunServiceHooks {
  /** Called once the workflow has started, before the caller hears of it. */
  afterWorkflowStart?(id: string): Promise<void> | void;
}

export class RunStarts {
  constructor(
    private readonly client: Client,
    private readonly catalog: RunbookCatalog,
    private readonly taskQueue: string,
    /** Signs starts: workers refuse what the API did not sign. */
    private readonly authority: RunAuthority,
    private readonly hooks: RunServiceHooks = {},
  ) {}

  compileRunbook(name: string): CompiledManifest {
    const result = this.catalog.compile(name);
    if (!result) throw new JarvisProblem(`no runbook named "${name}" in the catalog`, 'not-found');
    return this.expectValid(result, `runbook "${name}" is invalid:`);
  }

  expectValid(result: LoadResult, message: string): CompiledManifest {
    if (!result.ok) throw new JarvisProblem(message, 'invalid', result.errors);
    return result.compiled;
  }

  /**
   * Idempotent starts (`request.idempotency`) rely on Temporal's own id
   * uniqueness rather than on a key stored before or after the start: the
   * workflow id is derived from the token (or, for a concurrency-keyed
   * runbook, fixed by its key) and the token rides in the memo. A retry after
   * the API died between "started" and "answered" then hits the same id,
   * Temporal answers "already started", and the run holding the token is
   * answered as the one run. Storing the key first would need a second
   * protocol for a key stored whose start never happened, and a start whose
   * answer was lost (timeout) could still start twice.
   */
  async startRun(request: StartRunRequest): Promise<StartedRun> {
    const plan = this.planStart(request);
    const { id, input, key, token } = plan;
    // A keyed id is reused once its run closes, so Temporal's conflict cannot tell a retry that comes after the run ended: look first.
    if (key !== undefined && token !== undefined) {
      const earlier = await this.startedWithToken(id, token);
      if (earlier) return earlier;
    }
    try {
      const handle = await this.client.workflow.start(INTERPRETER_WORKFLOW, {
        taskQueue: this.taskQueue,
        workflowId: id,
        args: [input],
        workflowIdConflictPolicy: 'FAIL',
        // A token's id names one run forever (within Temporal's retention), even after that run closed.
        ...(key === undefined && token !== undefined ? { workflowIdReusePolicy: 'REJECT_DUPLICATE' as const } : {}),
        ...(plan.memo ? { memo: plan.memo } : {}),
        typedSearchAttributes: runSearchAttributes(plan.attributes),
      });
      await this.hooks.afterWorkflowStart?.(id);
      return { id, runId: handle.firstExecutionRunId };
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      const earlier = token === undefined ? undefined : await this.startedWithToken(id, token);
      if (earlier) return earlier;
      const holder = await this.client.workflow.getHandle(id).describe();
      const who = holder.typedSearchAttributes.get(STARTED_BY_ATTRIBUTE) ?? 'someone';
      if (key === undefined) throw new JarvisProblem(`run ${id} already exists and was not started with this idempotency key`, 'conflict');
      throw new JarvisProblem(
        `runbook "${input.runbook.name}" is already running for concurrency key "${key}": run ${id} (execution ${holder.runId}), started by ${who} at ${holder.startTime.toISOString()}. Wait for it to finish or cancel it.`,
        'conflict',
      );
    }
  }

  /**
   * Everything a start needs but the start itself: the checked inputs, the
   * workflow id, and the input signed for that id. A schedule's fire starts
   * the planned run as a child of its own workflow (workflows/scheduled-run.ts).
   */
  planStart(request: StartRunRequest): PlannedStart {
    const compiled = typeof request.runbook === 'string' ? this.compileRunbook(request.runbook) : request.runbook;
    const { runbook } = compiled;
    if (!runbook.environments.includes(request.environment)) {
      throw new JarvisProblem(`runbook "${runbook.name}" cannot run in "${request.environment}"; it allows ${runbook.environments.join(', ')}`, 'invalid');
    }
    const inputs = validateRunInputs(runbook, request.inputs);
    const key = runbook.concurrencyKey === undefined ? undefined : String(renderString(runbook.concurrencyKey, { inputs }));
    const token = request.idempotency;
    const id =
      key !== undefined
        ? keyedRunId(runbook.name, request.environment, key)
        : token !== undefined
          ? idempotentRunId(runbook.name, request.environment, token)
          : newRunId(runbook.name, request.environment);
    const input: RunInput = {
      runbook,
      children: compiled.children,
      inputs,
      environment: request.environment,
      startedBy: request.startedBy,
      ...(request.rerunOf ? { rerunOf: request.rerunOf } : {}),
      ...(request.planId ? { planId: request.planId } : {}),
      ...(request.fleetTargets ? { fleetTargets: request.fleetTargets } : {}),
    };
    input.authorization = this.authority.signStart(id, input);
    const attributes: RunAttributes = {
      runbook: runbook.name,
      environment: request.environment,
      startedBy: request.startedBy,
      ...(request.rerunOf ? { rerunOf: request.rerunOf } : {}),
      ...(request.scheduleId ? { scheduleId: request.scheduleId } : {}),
    };
    return { id, input, attributes, ...(key !== undefined ? { key } : {}), ...(token !== undefined ? { token, memo: { [IDEMPOTENCY_MEMO]: token } } : {}) };
  }

  /** The latest execution of `id` when it was started with `token`. */
  private async startedWithToken(id: string, token: string): Promise<StartedRun | undefined> {
    try {
      const description = await this.client.workflow.getHandle(id).describe();
      return description.memo?.[IDEMPOTENCY_MEMO] === token ? { id, runId: description.runId, replayed: true } : undefined;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    }
  }
}
