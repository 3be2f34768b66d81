// Offline plans: the steps a past resolution names, made concrete for the
// run being diagnosed. A resolution may carry catalog steps (a plan that
// worked, or an imported incident's steps), name a runbook with its inputs
// (an imported postmortem, a note: "Runbook: restart-service service=api"),
// or name a catalog action in its text. A named runbook is expanded into its
// action steps with its inputs written out: a plan holds catalog actions
// only, and the approvals are added when it is submitted.
import { actionCatalog } from '../activities/catalog.js';
import { isTemplate, renderValue, templateExpressions } from '../manifest/template.js';
import { runbookInText } from './incident-fields.js';

/** Looks a runbook's manifest up (the catalog's raw YAML value), undefined when unknown. */
export type RunbookSource = (name: string) => unknown;

export interface ResolutionLike {
  title: string;
  body: string;
  runbook?: string | null;
  metadata: Record<string, unknown>;
}

export interface ResolvedSteps {
  steps: Array<Record<string, unknown>>;
  /** How the steps were found, for the plan's summary. */
  how: string;
}

/** Arguments that name what a step acts on: taken from the diagnosed run when it has the same input. */
const TARGET_ARGUMENTS = new Set(['container', 'service', 'stack', 'host', 'server', 'target', 'node', 'endpoint', 'connection', 'url', 'path', 'database']);

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** Steps of catalog actions, with the diagnosed run's targets where the step names the same kind of target. */
function retarget(steps: unknown[], runInputs: Record<string, unknown>): Array<Record<string, unknown>> {
  return steps.map((raw) => {
    const step = asRecord(raw) ?? {};
    const args = asRecord(step.with);
    if (!args) return step;
    const retargeted = Object.fromEntries(Object.entries(args).map(([key, value]) => [key, TARGET_ARGUMENTS.has(key) && typeof runInputs[key] === 'string' ? runInputs[key] : value]));
    return { ...step, with: retargeted };
  });
}

/** Renders only templates that read inputs; others (a step's output) stay for the validator to refuse with a reason. */
function renderInputs(value: unknown, inputs: Record<string, unknown>): unknown {
  if (typeof value === 'string') {
    if (!isTemplate(value) || !templateExpressions(value).every((source) => /^inputs\.[A-Za-z_][\w]*$/.test(source))) return value;
    return renderValue(value, { inputs });
  }
  if (Array.isArray(value)) return value.map((item) => renderInputs(item, inputs));
  const record = asRecord(value);
  return record ? Object.fromEntries(Object.entries(record).map(([key, item]) => [key, renderInputs(item, inputs)])) : value;
}

/**
 * A runbook's action steps with its inputs written out: the schema's
 * defaults, then the resolution's inputs, then the diagnosed run's inputs of
 * the same name (the failing run's container, not the past incident's).
 */
export function expandRunbook(manifest: unknown, given: Record<string, unknown>, runInputs: Record<string, unknown>): Array<Record<string, unknown>> | undefined {
  const root = asRecord(manifest);
  const steps = Array.isArray(root?.steps) ? root.steps : undefined;
  if (!root || !steps) return undefined;
  const properties = asRecord(asRecord(root.inputs)?.properties) ?? {};
  const inputs: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(properties)) {
    const fallback = asRecord(schema)?.default;
    if (fallback !== undefined) inputs[name] = fallback;
    if (given[name] !== undefined) inputs[name] = given[name];
    if (runInputs[name] !== undefined && TARGET_ARGUMENTS.has(name)) inputs[name] = runInputs[name];
  }
  for (const [name, value] of Object.entries(given)) inputs[name] ??= value;
  const expanded: Array<Record<string, unknown>> = [];
  for (const raw of steps) {
    const step = asRecord(raw);
    if (!step) continue;
    // The plan's own approvals replace the runbook's.
    if (step.approval !== undefined) continue;
    if (typeof step.action !== 'string') return undefined;
    const { compensate: _compensate, ...kept } = step;
    expanded.push(renderInputs(kept, inputs) as Record<string, unknown>);
  }
  return expanded.length > 0 ? expanded : undefined;
}

/** A catalog action named in text with its arguments: "docker.container.restart endpoint=docker-prod container=web". */
function actionInText(text: string): Array<Record<string, unknown>> | undefined {
  for (const match of text.matchAll(/\b([a-z][a-z0-9-]*(?:\.[a-z0-9-]+){1,3})((?:[ \t]+[A-Za-z_][\w-]*=[^\s,;]+)*)/g)) {
    const definition = actionCatalog.find(match[1]!);
    if (!definition) continue;
    const args: Record<string, unknown> = {};
    for (const pair of match[2]!.trim().split(/\s+/).filter(Boolean)) {
      const [key, ...rest] = pair.split('=');
      args[key!] = rest.join('=');
    }
    return [
      {
        id: definition.id
          .split('.')
          .at(-1)!
          .replace(/[^\w-]/g, '-'),
        title: definition.title,
        action: definition.id,
        with: args,
      },
    ];
  }
  return undefined;
}

/** The steps a resolution (or note) names, made concrete for the diagnosed run; undefined when it names none. */
export function stepsOfResolution(resolution: ResolutionLike, runbookSource: RunbookSource, runInputs: Record<string, unknown>): ResolvedSteps | undefined {
  const manifest = asRecord(resolution.metadata.manifest);
  if (Array.isArray(manifest?.steps) && manifest.steps.length > 0) return { steps: retarget(manifest.steps, runInputs), how: 'its recorded steps' };
  const named = asRecord(resolution.metadata.resolutionRunbook) as { name?: unknown; inputs?: unknown } | undefined;
  const reference = typeof named?.name === 'string' ? { name: named.name, inputs: asRecord(named.inputs) ?? {} } : runbookInText(`${resolution.title}\n${resolution.body}`);
  if (reference) {
    const source = runbookSource(reference.name);
    const steps = source ? expandRunbook(source, reference.inputs, runInputs) : undefined;
    if (steps) return { steps, how: `the runbook ${reference.name}` };
  }
  const steps = actionInText(resolution.body);
  return steps ? { steps: retarget(steps, runInputs), how: `the action ${String(steps[0]!.action)}` } : undefined;
}
