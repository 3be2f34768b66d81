// Turns a manifest (YAML text or a parsed object) into a CompiledRunbook, or
// into the list of *every* mistake with its path.
import { createHash } from 'node:crypto';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import type { ActionCatalog, ActionDescription } from './action-catalog.js';
import { parseDuration } from './duration.js';
import { compileInputsSchema, InputsSchemaError } from './json-schema.js';
import { joinPath, zodIssuesToErrors, type ManifestError } from './errors.js';
import { collectPaths, parseExpression, ExpressionSyntaxError } from './expression.js';
import { amountProblem, MAX_BATCHES, selectorProblem, type CompiledRollout } from './fleet.js';
import { isNodeName } from './node-names.js';
import { manifestEnvelopeSchema, stepSchema, type RawStep } from './schema.js';
import { conditionSource, isTemplate, templateExpressions } from './template.js';
import type { ActionStep, CompiledRunbook, Step } from './types.js';

export type { ManifestError } from './errors.js';

export interface CompiledManifest {
  runbook: CompiledRunbook;
  /** Every runbook reached through `runbook` steps, by name. */
  children: Record<string, CompiledRunbook>;
}

export type LoadResult = { ok: true; compiled: CompiledManifest } | { ok: false; errors: ManifestError[] };

export interface LoadOptions {
  /** Finds another runbook's parsed manifest by name, for `runbook` steps. */
  lookupRunbook?(name: string): unknown;
  /** Names of the runbooks being compiled above this one: a child that is among them recurses. */
  chain?: string[];
}

const RUN_FIELDS = ['id', 'startedBy', 'environment', 'runbook'];
const STEP_KINDS = ['action', 'approval', 'sleep', 'runbook', 'parallel'] as const;
const DEFAULT_PICKUP_TIMEOUT = '5m';

export function parseYaml(text: string): { value?: unknown; errors: ManifestError[] } {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { prettyErrors: false, lineCounter });
  if (document.errors.length > 0) {
    return {
      errors: document.errors.map((error) => {
        const position = lineCounter.linePos(error.pos[0]);
        return { path: '(yaml)', message: `${error.message.split('\n')[0]} (line ${position.line}, column ${position.col})` };
      }),
    };
  }
  return { value: document.toJS(), errors: [] };
}

export function loadManifestText(text: string, actions: ActionCatalog, options: LoadOptions = {}): LoadResult {
  const parsed = parseYaml(text);
  if (parsed.errors.length > 0) return { ok: false, errors: parsed.errors };
  return loadManifest(parsed.value, actions, options);
}

/** Runbook versions are content hashes of the compiled form. */
function versionOf(runbook: Omit<CompiledRunbook, 'version'>): string {
  return createHash('sha256').update(JSON.stringify(runbook)).digest('hex').slice(0, 12);
}

/** Compiles a manifest against the actions of `actions`, the catalog its runs will have. */
export function loadManifest(value: unknown, actions: ActionCatalog, options: LoadOptions = {}): LoadResult {
  const envelope = manifestEnvelopeSchema.safeParse(value ?? {});
  const errors: ManifestError[] = [];
  if (!envelope.success) {
    // Step errors are collected below from the steps themselves.
    errors.push(...zodIssuesToErrors('', envelope.error.issues.filter((issue) => !(issue.path[0] === 'steps' && issue.path.length > 1))));
  }
  const raw = (value ?? {}) as Record<string, unknown>;
  const rawSteps = Array.isArray(raw.steps) ? raw.steps : [];
  const inputsSchema = envelope.success ? envelope.data.inputs : isObject(raw.inputs) ? raw.inputs : undefined;
  const compiler = new StepCompiler(errors, inputNamesOf(inputsSchema, errors), actions, options, typeof raw.name === 'string' ? raw.name : '');
  if (envelope.success && envelope.data.targets !== undefined) compiler.fleetDefaults = { targets: envelope.data.targets, ...(envelope.data.rollout ? { rollout: envelope.data.rollout } : {}) };
  else if (envelope.success && envelope.data.rollout !== undefined) errors.push({ path: 'rollout', message: 'a runbook’s "rollout" applies with its "targets": name them too' });
  const steps = compiler.compileTopLevel(rawSteps);
  if (compiler.fleetDefaults && !compiler.fleetDefaultsUsed) errors.push({ path: 'targets', message: 'no step uses the runbook’s targets: they apply to node-local action steps that name neither "node" nor "targets"' });
  if (envelope.success && envelope.data.concurrencyKey !== undefined) {
    compiler.checkTemplates(envelope.data.concurrencyKey, 'concurrencyKey', new Set(), { inputsOnly: true });
  }
  if (!envelope.success || errors.length > 0) return { ok: false, errors };

  // The runbook's targets live on the steps they apply to.
  const { steps: _steps, targets: _targets, rollout: _rollout, ...fields } = envelope.data;
  const unversioned = { ...fields, steps };
  return { ok: true, compiled: { runbook: { ...unversioned, version: versionOf(unversioned) }, children: compiler.children } };
}

function inputNamesOf(schema: Record<string, unknown> | undefined, errors: ManifestError[]): Set<string> | undefined {
  if (!schema) return undefined;
  if (schema.type !== 'object') {
    errors.push({ path: 'inputs.type', message: 'the inputs schema must be "type: object"' });
    return undefined;
  }
  try {
    compileInputsSchema(schema);
  } catch (error) {
    if (!(error instanceof InputsSchemaError)) throw error;
    errors.push({ path: 'inputs', message: `not a valid JSON Schema: ${error.message}` });
    return undefined;
  }
  const properties = schema.properties;
  return new Set(properties && typeof properties === 'object' ? Object.keys(properties) : []);
}

interface TemplateCheckOptions {
  inputsOnly?: boolean;
  /** Inside a compensation, the compensated step's own output may be used. */
  selfStepId?: string;
}

class StepCompiler {
  readonly children: Record<string, CompiledRunbook> = {};
  private readonly firstPathById = new Map<string, string>();
  /** Compiling a fleet step's compensations: they run on each target, which names their node. */
  private inFleet = false;
  /** The runbook's own `targets` (and `rollout`): for node-local action steps that name neither `node` nor `targets`. */
  fleetDefaults?: { targets: NonNullable<RawStep['targets']>; rollout?: RawStep['rollout'] };
  fleetDefaultsUsed = false;

  constructor(
    private readonly errors: ManifestError[],
    private readonly inputNames: Set<string> | undefined,
    private readonly actions: ActionCatalog,
    private readonly options: LoadOptions,
    private readonly runbookName: string,
  ) {}

  compileTopLevel(rawSteps: unknown[]): Step[] {
    const parsed = rawSteps.map((raw, index) => this.parseStep(raw, `steps[${index}]`));
    // Every id first, so a reference to a later step is told apart from an unknown one.
    parsed.forEach((step, index) => {
      // A step with a structural mistake still claims its id, so duplicates and references are checked too.
      const id = step?.id ?? (rawSteps[index] as { id?: unknown } | null)?.id;
      if (step) this.registerIds(step, `steps[${index}]`);
      else if (typeof id === 'string') this.registerIds({ id }, `steps[${index}]`);
    });
    const available = new Set<string>();
    const compiled: Step[] = [];
    parsed.forEach((step, index) => {
      if (!step) return;
      const result = this.compileStep(step, `steps[${index}]`, available);
      if (result) compiled.push(result);
      this.idsWithin(step).forEach((id) => available.add(id));
    });
    return compiled;
  }

  private parseStep(raw: unknown, path: string): RawStep | undefined {
    const result = stepSchema.safeParse(raw);
    if (!result.success) {
      this.errors.push(...zodIssuesToErrors(path, result.error.issues));
      return undefined;
    }
    return result.data;
  }

  private registerIds(step: Pick<RawStep, 'id' | 'parallel' | 'compensate'>, path: string): void {
    const first = this.firstPathById.get(step.id);
    if (first !== undefined) {
      this.errors.push({ path: `${path}.id`, message: `duplicate step id "${step.id}" (already used at ${first})` });
    } else {
      this.firstPathById.set(step.id, path);
    }
    step.parallel?.forEach((child, index) => this.registerIds(child, `${path}.parallel[${index}]`));
    step.compensate?.forEach((child, index) => this.registerIds(child, `${path}.compensate[${index}]`));
  }

  private idsWithin(step: RawStep): string[] {
    return [step.id, ...(step.parallel ?? []).flatMap((child) => this.idsWithin(child))];
  }

  private compileStep(step: RawStep, path: string, available: Set<string>, selfStepId?: string): Step | undefined {
    const kinds = STEP_KINDS.filter((kind) => step[kind] !== undefined);
    if (kinds.length !== 1) {
      this.errors.push({
        path,
        message:
          kinds.length === 0
            ? 'a step needs one of: action, approval, sleep, runbook, parallel'
            : `a step is one of action, approval, sleep, runbook or parallel, not ${kinds.join(' and ')}`,
      });
      return undefined;
    }
    const kind = kinds[0];
    this.rejectFieldsNotFor(step, path, kind ?? 'action');
    if (step.when !== undefined) this.checkCondition(step.when, `${path}.when`, available, selfStepId);
    const base = { id: step.id, ...(step.title ? { title: step.title } : {}), ...(step.when ? { when: step.when } : {}) };

    switch (kind) {
      case 'action':
        return this.compileAction(step, path, available, selfStepId);
      case 'approval': {
        const approval = step.approval!;
        return {
          ...base,
          kind: 'approval',
          role: approval.role,
          approvals: approval.approvals,
          ...(approval.deadline ? { deadlineMs: parseDuration(approval.deadline) } : {}),
          allowStarter: approval.allowStarter,
        };
      }
      case 'sleep':
        return { ...base, kind: 'sleep', durationMs: parseDuration(step.sleep!) ?? 0 };
      case 'runbook':
        this.checkTemplates(step.with ?? {}, `${path}.with`, available);
        this.resolveChild(step.runbook!, `${path}.runbook`);
        return { ...base, kind: 'runbook', runbook: step.runbook!, with: step.with ?? {}, continueOnError: step.continueOnError ?? false };
      case 'parallel': {
        if (step.parallel!.length === 0) this.errors.push({ path: `${path}.parallel`, message: 'a parallel group needs at least one step' });
        // Steps of one group run at the same time: none may read a sibling's output.
        const steps = step.parallel!.flatMap((child, index) => this.compileStep(child, `${path}.parallel[${index}]`, new Set(available)) ?? []);
        return { ...base, kind: 'parallel', steps };
      }
      default:
        return undefined;
    }
  }

  private rejectFieldsNotFor(step: RawStep, path: string, kind: (typeof STEP_KINDS)[number]): void {
    const allowed: Record<string, Array<keyof RawStep>> = {
      action: ['with', 'retry', 'timeout', 'heartbeatTimeout', 'continueOnError', 'compensate', 'node', 'pickupTimeout', 'targets', 'rollout'],
      runbook: ['with', 'continueOnError'],
      approval: [],
      sleep: [],
      parallel: [],
    };
    for (const field of ['with', 'retry', 'timeout', 'heartbeatTimeout', 'continueOnError', 'compensate', 'node', 'pickupTimeout', 'targets', 'rollout'] as const) {
      if (step[field] !== undefined && !allowed[kind]?.includes(field)) {
        this.errors.push({ path: `${path}.${field}`, message: `"${field}" does not apply to a ${kind} step` });
      }
    }
  }

  private compileAction(given: RawStep, path: string, available: Set<string>, selfStepId?: string): ActionStep | undefined {
    const action = this.actions.find(given.action!);
    const inherits = this.fleetDefaults && selfStepId === undefined && action?.runsOn === 'node' && given.node === undefined && given.targets === undefined;
    if (inherits) this.fleetDefaultsUsed = true;
    const step: RawStep = inherits ? { ...given, targets: this.fleetDefaults!.targets, rollout: given.rollout ?? this.fleetDefaults!.rollout } : given;
    const args = step.with ?? {};
    this.checkTemplates(args, `${path}.with`, available, { selfStepId });
    const fleet = step.targets !== undefined;
    const compensate = (step.compensate ?? []).flatMap((child, index) => {
      const childPath = `${path}.compensate[${index}]`;
      if (child.action === undefined) {
        this.errors.push({ path: childPath, message: 'a compensation must be an action step' });
        return [];
      }
      const outer = this.inFleet;
      this.inFleet = fleet;
      const compiled = this.compileStep(child, childPath, available, step.id);
      this.inFleet = outer;
      return compiled?.kind === 'action' ? [compiled] : [];
    });
    if (!action) {
      this.errors.push({ path: `${path}.action`, message: `unknown action "${step.action}" (known: ${this.actions.all.map((known) => known.id).join(', ')})` });
      return undefined;
    }
    this.checkArguments(action, args, `${path}.with`);
    this.checkNode(action, step, path, available, selfStepId);
    const rollout = this.compileRollout(step, path, available);
    const defaults = action.defaults;
    const retry = step.retry ?? {};
    return {
      id: step.id,
      ...(step.title ? { title: step.title } : {}),
      ...(step.when ? { when: step.when } : {}),
      kind: 'action',
      action: action.id,
      with: args,
      retry: {
        maxAttempts: retry.maxAttempts ?? defaults.retry.maxAttempts,
        initialIntervalMs: parseDuration(retry.initialInterval ?? defaults.retry.initialInterval) ?? 1_000,
        backoffCoefficient: retry.backoff ?? defaults.retry.backoff,
        maximumIntervalMs: parseDuration(retry.maxInterval ?? defaults.retry.maxInterval) ?? 60_000,
        nonRetryableErrorTypes: [...new Set([...(defaults.retry.nonRetryable ?? []), ...(retry.nonRetryable ?? [])])],
      },
      timeoutMs: parseDuration(step.timeout ?? defaults.timeout) ?? 60_000,
      ...(step.heartbeatTimeout || defaults.heartbeatTimeout
        ? { heartbeatTimeoutMs: parseDuration(step.heartbeatTimeout ?? defaults.heartbeatTimeout ?? '') }
        : {}),
      // Only steps on a node carry these: every other step compiles exactly as before (same version hash).
      ...(step.node !== undefined ? { node: step.node, pickupTimeoutMs: parseDuration(step.pickupTimeout ?? DEFAULT_PICKUP_TIMEOUT) } : {}),
      ...(step.targets !== undefined ? { targets: step.targets, pickupTimeoutMs: parseDuration(step.pickupTimeout ?? DEFAULT_PICKUP_TIMEOUT), rollout } : {}),
      continueOnError: step.continueOnError ?? false,
      compensate,
    };
  }

  /** Node-local actions run on the agent of the node a step names; no other action may name one. */
  private checkNode(action: ActionDescription, step: RawStep, path: string, available: Set<string>, selfStepId?: string): void {
    if (this.checkFleetNode(action, step, path, available, selfStepId)) return;
    if (action.runsOn === 'node' && step.node === undefined) {
      this.errors.push({ path: `${path}.node`, message: `required: ${action.id} runs on a node's agent, so name the node (node: web-1 or node: \${{ inputs.node }})` });
    }
    if (action.runsOn !== 'node' && step.node !== undefined) {
      const nodeLocal = this.actions.all.filter((entry) => entry.runsOn === 'node').map((entry) => entry.id);
      this.errors.push({ path: `${path}.node`, message: `"node" applies only to node-local actions (${nodeLocal.join(', ')}); ${action.id} runs on the main workers` });
    }
    if (step.pickupTimeout !== undefined && step.node === undefined) {
      this.errors.push({ path: `${path}.pickupTimeout`, message: '"pickupTimeout" applies only to a step with "node"' });
    }
    if (step.node === undefined) return;
    if (isTemplate(step.node)) this.checkTemplates(step.node, `${path}.node`, available, { selfStepId });
    else if (!isNodeName(step.node)) this.errors.push({ path: `${path}.node`, message: `"${step.node}" is not a node name: lowercase letters, digits and "-"` });
  }

  /**
   * Fleet steps and their compensations: `targets` instead of `node`, a
   * node-local action, a valid selector. True when the step was one of them.
   */
  private checkFleetNode(action: ActionDescription, step: RawStep, path: string, available: Set<string>, selfStepId?: string): boolean {
    const nodeLocal = () => this.actions.all.filter((entry) => entry.runsOn === 'node').map((entry) => entry.id).join(', ');
    if (this.inFleet) {
      if (step.node !== undefined || step.targets !== undefined) this.errors.push({ path: `${path}.${step.node !== undefined ? 'node' : 'targets'}`, message: "a fleet step's compensations run on each of its targets: name no node nor targets" });
      if (action.runsOn !== 'node') this.errors.push({ path: `${path}.action`, message: `a fleet step's compensations run on each target's agent: use a node-local action (${nodeLocal()})` });
      return true;
    }
    if (step.targets === undefined) {
      if (step.rollout !== undefined) this.errors.push({ path: `${path}.rollout`, message: '"rollout" applies only to a step with "targets"' });
      return false;
    }
    if (step.node !== undefined) this.errors.push({ path: `${path}.node`, message: 'a step names either one "node" or fleet "targets", not both' });
    if (action.runsOn !== 'node') this.errors.push({ path: `${path}.targets`, message: `"targets" applies only to node-local actions (${nodeLocal()}); ${action.id} runs on the main workers` });
    if (typeof step.targets === 'string' && isTemplate(step.targets)) this.checkTemplates(step.targets, `${path}.targets`, available, { selfStepId });
    else {
      const problem = selectorProblem(step.targets);
      if (problem) this.errors.push({ path: `${path}.targets`, message: problem });
    }
    return true;
  }

  private compileRollout(step: RawStep, path: string, available: Set<string>): CompiledRollout | undefined {
    if (step.targets === undefined) return undefined;
    const raw = step.rollout ?? { onFailure: 'stop' as const, compensate: 'failed' as const };
    const amount = (value: number | string | undefined, field: string, minimum: 0 | 1) => {
      if (value === undefined) return;
      if (isTemplate(value)) this.checkTemplates(value, `${path}.rollout.${field}`, available, { inputsOnly: true });
      else {
        const problem = amountProblem(value, minimum);
        if (problem) this.errors.push({ path: `${path}.rollout.${field}`, message: problem });
      }
    };
    amount(raw.batch, 'batch', 1);
    if (raw.compensate !== undefined && isTemplate(raw.compensate)) this.checkTemplates(raw.compensate, `${path}.rollout.compensate`, available, { inputsOnly: true });
    amount(raw.maxFailures, 'maxFailures', 0);
    if (typeof raw.batch === 'number' && raw.batch > 0 && Array.isArray((step.targets as { names?: unknown }).names)) {
      const names = (step.targets as { names: unknown[] }).names.length;
      if (names / raw.batch > MAX_BATCHES) this.errors.push({ path: `${path}.rollout.batch`, message: `more than ${MAX_BATCHES} batches: use a larger batch` });
    }
    const approval = raw.approveAfterFirstBatch;
    return {
      batch: raw.batch ?? '100%',
      ...(raw.maxConcurrency !== undefined ? { maxConcurrency: raw.maxConcurrency } : {}),
      maxFailures: raw.maxFailures ?? 0,
      pauseBetweenMs: raw.pauseBetween ? (parseDuration(raw.pauseBetween) ?? 0) : 0,
      ...(approval === true ? { approveAfterFirstBatch: { role: 'approver' as const } } : {}),
      ...(approval && typeof approval === 'object' ? { approveAfterFirstBatch: { role: approval.role, ...(approval.deadline ? { deadlineMs: parseDuration(approval.deadline) } : {}) } } : {}),
      onFailure: raw.onFailure,
      compensate: raw.compensate,
    };
  }

  /** Checks literal arguments against the action's input schema; templated ones are checked when the step runs. */
  private checkArguments(action: ActionDescription, args: Record<string, unknown>, path: string): void {
    const shape = action.input.shape as Record<string, z.ZodType>;
    for (const [name, value] of Object.entries(args)) {
      const field = shape[name];
      if (!field) {
        this.errors.push({ path: joinPath(path, name), message: `unknown argument for ${action.id} (known: ${Object.keys(shape).join(', ')})` });
      } else if (!containsTemplate(value)) {
        const result = field.safeParse(value);
        if (!result.success) this.errors.push(...zodIssuesToErrors(joinPath(path, name), result.error.issues));
      }
    }
    for (const [name, field] of Object.entries(shape)) {
      if (!(name in args) && !field.safeParse(undefined).success) this.errors.push({ path: joinPath(path, name), message: 'required' });
    }
    const fullyLiteral = Object.values(args).every((value) => !containsTemplate(value));
    if (fullyLiteral) {
      const whole = action.input.safeParse(args);
      if (!whole.success) {
        this.errors.push(...zodIssuesToErrors(path, whole.error.issues.filter((issue) => issue.path.length === 0 && issue.code === 'custom')));
      }
    }
  }

  private checkCondition(condition: string, path: string, available: Set<string>, selfStepId?: string): void {
    this.checkExpression(conditionSource(condition), path, available, { selfStepId });
  }

  checkTemplates(value: unknown, path: string, available: Set<string>, options: TemplateCheckOptions = {}): void {
    if (typeof value === 'string') {
      templateExpressions(value).forEach((source) => this.checkExpression(source, path, available, options));
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => this.checkTemplates(item, `${path}[${index}]`, available, options));
    } else if (value !== null && typeof value === 'object') {
      Object.entries(value).forEach(([key, item]) => this.checkTemplates(item, joinPath(path, key), available, options));
    }
  }

  private checkExpression(source: string, path: string, available: Set<string>, options: TemplateCheckOptions): void {
    let paths;
    try {
      paths = collectPaths(parseExpression(source));
    } catch (error) {
      const message = error instanceof ExpressionSyntaxError ? error.message : String(error);
      this.errors.push({ path, message: `bad expression "${source}": ${message}` });
      return;
    }
    for (const reference of paths) {
      const problem = this.referenceProblem(reference.root, reference.segments, available, options);
      if (problem) this.errors.push({ path, message: problem });
    }
  }

  private referenceProblem(root: string, segments: Array<string | number>, available: Set<string>, options: TemplateCheckOptions): string | undefined {
    const [first, second] = segments;
    if (root === 'inputs') {
      if (first === undefined) return 'refer to one input, e.g. inputs.host';
      if (this.inputNames && !this.inputNames.has(String(first))) return `unknown input "${first}" (declare it under inputs.properties)`;
      return undefined;
    }
    if (options.inputsOnly) return `only inputs.* can be used here, not ${root}`;
    if (root === 'run') {
      return RUN_FIELDS.includes(String(first)) ? undefined : `unknown run field "${String(first)}" (use ${RUN_FIELDS.map((field) => `run.${field}`).join(', ')})`;
    }
    if (root === 'steps') {
      const id = String(first);
      if (first === undefined) return 'refer to a step, e.g. steps.fetch.output.status';
      if (second !== 'output' && second !== 'status') return `use steps.${id}.output.<field> or steps.${id}.status`;
      if (available.has(id) || id === options.selfStepId) return undefined;
      if (this.firstPathById.has(id)) return `step "${id}" has not run yet at this point (it runs later or in the same parallel group)`;
      return `unknown step "${id}"`;
    }
    return `unknown name "${root}" (use inputs.<name>, steps.<id>.output.<field> or run.<field>)`;
  }

  private resolveChild(name: string, path: string): void {
    const chain = [...(this.options.chain ?? []), this.runbookName];
    if (chain.includes(name)) {
      this.errors.push({ path, message: `runbook "${name}" would start itself again (${[...chain, name].join(' → ')})` });
      return;
    }
    const raw = this.options.lookupRunbook?.(name);
    if (raw === undefined) {
      this.errors.push({ path, message: `unknown runbook "${name}"` });
      return;
    }
    const child = loadManifest(raw, this.actions, { ...this.options, chain });
    if (!child.ok) {
      const recursion = child.errors.find((error) => error.message.includes('would start itself again'));
      const first = recursion ?? child.errors[0];
      this.errors.push({ path, message: `runbook "${name}" is invalid: ${first?.path}: ${first?.message}` });
      return;
    }
    this.children[name] = child.compiled.runbook;
    Object.assign(this.children, child.compiled.children);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function containsTemplate(value: unknown): boolean {
  if (isTemplate(value)) return true;
  if (Array.isArray(value)) return value.some(containsTemplate);
  if (value !== null && typeof value === 'object') return Object.values(value).some(containsTemplate);
  return false;
}
