// Checks a proposed (or edited) plan: the same loader as every manifest, then
// what only plans must satisfy — nothing but catalog actions, each allowed by
// the environment's action policy, every target named in the arguments known
// to the inventory or to the diagnosed run — and scores its risk from the
// actions' risk levels. Submission wraps a valid plan in approvals.
import { actionCatalog } from '../activities/catalog.js';
import type { RiskLevel } from '../manifest/action-catalog.js';
import { loadManifest, type CompiledManifest } from '../manifest/loader.js';
import type { ManifestError } from '../manifest/errors.js';
import type { ActionPolicy, PlanRisk } from './plan-store.js';

export interface PlanContext {
  environment: string;
  policy: ActionPolicy;
  /** Node names and addresses of the environment. */
  nodes: ReadonlySet<string>;
  /** Connection names of the environment. */
  connections: ReadonlySet<string>;
  /** Names that appear in the diagnosed run (its inputs, step arguments, log): containers, services, hosts. */
  runTargets: ReadonlySet<string>;
}

export interface PlanValidation {
  valid: boolean;
  errors: ManifestError[];
  risk: PlanRisk;
  compiled?: CompiledManifest;
}

const RISK_ORDER: Record<RiskLevel, number> = { low: 0, medium: 1, high: 2 };
/** Score per step: one high-risk step outweighs several medium ones. */
const RISK_SCORE: Record<RiskLevel, number> = { low: 1, medium: 3, high: 10 };
const NON_ACTION_FIELDS = ['approval', 'sleep', 'runbook', 'parallel'] as const;

/** Arguments that name a connection of the environment. */
const CONNECTION_ARGUMENTS = new Set(['endpoint', 'connection']);
/** Arguments that name a node of the inventory. */
const NODE_ARGUMENTS = new Set(['node']);
/** Arguments that name something the run or the inventory must know. */
const TARGET_ARGUMENTS = new Set(['container', 'containers', 'service', 'stack', 'host', 'hosts', 'server', 'target']);

export const PLAN_CATEGORY = 'ai-plan';

export function planRunbookName(planId: string): string {
  return `ai-plan-${planId.slice(0, 8).toLowerCase()}`;
}

/** A plan's manifest as a runbook manifest (the same shape as a runbook's YAML). */
export function planManifest(planId: string, environment: string, goal: string, steps: unknown[]): Record<string, unknown> {
  return {
    name: planRunbookName(planId),
    title: goal.length > 100 ? `${goal.slice(0, 99)}…` : goal,
    description: `A remediation proposed by AI Ops for: ${goal}`,
    category: PLAN_CATEGORY,
    tags: [PLAN_CATEGORY],
    environments: [environment],
    requiredRole: 'operator',
    steps,
  };
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function valuesOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

export function scoreRisk(steps: Array<{ id: string; action: string }>): PlanRisk {
  const scored = steps.map((step) => ({ id: step.id, action: step.action, risk: actionCatalog.find(step.action)?.risk ?? ('high' as RiskLevel) }));
  const level = scored.reduce<RiskLevel>((highest, step) => (RISK_ORDER[step.risk] > RISK_ORDER[highest] ? step.risk : highest), 'low');
  return { level, score: scored.reduce((total, step) => total + RISK_SCORE[step.risk], 0), steps: scored };
}

export function validatePlan(manifest: unknown, context: PlanContext): PlanValidation {
  const errors: ManifestError[] = [];
  const root = asRecord(manifest);
  if (!root) return { valid: false, errors: [{ path: '(root)', message: 'a plan is a runbook manifest (an object)' }], risk: scoreRisk([]) };
  const loaded = loadManifest(root, actionCatalog);
  if (!loaded.ok) errors.push(...loaded.errors);
  if (loaded.ok && !loaded.compiled.runbook.environments.includes(context.environment)) {
    errors.push({ path: 'environments', message: `the plan must be allowed in ${context.environment}` });
  }

  const actionSteps: Array<{ id: string; action: string }> = [];
  const rawSteps = Array.isArray(root.steps) ? root.steps : [];
  rawSteps.forEach((raw, index) => {
    const path = `steps[${index}]`;
    const step = asRecord(raw);
    if (!step) return;
    const other = NON_ACTION_FIELDS.find((field) => step[field] !== undefined);
    if (other || typeof step.action !== 'string') {
      errors.push({ path, message: `a plan holds only catalog actions${other ? `, not a ${other} step` : ''} (approvals are added when it is submitted)` });
      return;
    }
    if (step.compensate !== undefined) errors.push({ path: `${path}.compensate`, message: 'plans do not compensate: each step is approved as it is written' });
    const id = typeof step.id === 'string' ? step.id : `#${index + 1}`;
    const definition = actionCatalog.find(step.action);
    if (!definition) return; // the loader reported it
    actionSteps.push({ id, action: step.action });
    const { policy } = context;
    if (policy.deniedActions.includes(step.action) || (policy.allowedActions !== null && !policy.allowedActions.includes(step.action))) {
      errors.push({ path: `${path}.action`, message: `${step.action} is not allowed in ${context.environment} by its AI action policy` });
    } else if (RISK_ORDER[definition.risk] > RISK_ORDER[policy.maxRisk]) {
      errors.push({ path: `${path}.action`, message: `${step.action} is ${definition.risk} risk; plans in ${context.environment} may use actions up to ${policy.maxRisk} risk` });
    }
    if (typeof step.node === 'string') checkTarget(errors, `${path}.node`, step.node, 'node', context);
    for (const [name, value] of Object.entries(asRecord(step.with) ?? {})) {
      const kind = CONNECTION_ARGUMENTS.has(name) ? 'connection' : NODE_ARGUMENTS.has(name) ? 'node' : TARGET_ARGUMENTS.has(name) ? 'target' : undefined;
      if (!kind) continue;
      valuesOf(value).forEach((item, position) => checkTarget(errors, Array.isArray(value) ? `${path}.with.${name}[${position}]` : `${path}.with.${name}`, item, kind, context));
    }
  });
  const unique = dedupe(errors);
  return { valid: unique.length === 0, errors: unique, risk: scoreRisk(actionSteps), ...(loaded.ok && unique.length === 0 ? { compiled: loaded.compiled } : {}) };
}

function checkTarget(errors: ManifestError[], path: string, value: unknown, kind: 'connection' | 'node' | 'target', context: PlanContext): void {
  if (typeof value !== 'string') return;
  if (value.includes('${{')) {
    errors.push({ path, message: 'a target in a plan is written out, not computed by a template' });
    return;
  }
  const known =
    kind === 'connection'
      ? context.connections.has(value)
      : kind === 'node'
        ? context.nodes.has(value)
        : context.runTargets.has(value) || context.nodes.has(value) || context.connections.has(value);
  if (!known) {
    const where = kind === 'connection' ? `a connection of ${context.environment}` : kind === 'node' ? `a node of ${context.environment}` : `the inventory of ${context.environment} or the diagnosed run`;
    errors.push({ path, message: kind === 'target' ? `"${value}" is not known to ${where}` : `"${value}" is not ${where}` });
  }
}

function dedupe(errors: ManifestError[]): ManifestError[] {
  const seen = new Set<string>();
  return errors.filter((error) => {
    const key = `${error.path}\u0000${error.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export const PLAN_APPROVAL_STEP = 'approve-plan';

/**
 * The manifest a submitted plan runs: an approval first (an approver other
 * than the submitter), and an approval of its own right before each
 * high-risk step. Nothing of the plan runs before the first is given.
 */
export function gatedManifest(manifest: Record<string, unknown>): Record<string, unknown> {
  const steps = (manifest.steps as Array<Record<string, unknown>>) ?? [];
  const ids = new Set(steps.map((step) => String(step.id)));
  const freshId = (base: string) => {
    let id = base;
    for (let suffix = 2; ids.has(id); suffix += 1) id = `${base}-${suffix}`;
    ids.add(id);
    return id;
  };
  const gated: Array<Record<string, unknown>> = [
    { id: freshId(PLAN_APPROVAL_STEP), title: 'Approve the AI-proposed plan before anything runs', approval: { role: 'approver', allowStarter: false } },
  ];
  for (const step of steps) {
    if (actionCatalog.find(String(step.action))?.risk === 'high') {
      gated.push({ id: freshId(`approve-${String(step.id)}`.slice(0, 90)), title: `Approve the high-risk step ${String(step.id)} (${String(step.action)})`, approval: { role: 'approver', allowStarter: false } });
    }
    gated.push(step);
  }
  return { ...manifest, steps: gated };
}
