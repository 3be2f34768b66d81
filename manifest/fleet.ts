// Fleet steps: which nodes a step targets (a selector) and how it rolls out
// over them (batches, a failure budget). Pure code: the loader, the API, the
// CLI and the interpreter workflow (sandbox) all use it.
import { isNodeName } from './node-names.js';

export const TARGET_STATUSES = ['pending', 'online', 'unreachable'] as const;

/** Nodes of the run's environment matching every given criterion; `all` alone selects every node. */
export interface TargetSelector {
  all?: boolean;
  labels?: Record<string, string>;
  names?: string[];
  status?: (typeof TARGET_STATUSES)[number];
}

/** A count (10) or a share of the targets ("20%"). */
export type RolloutAmount = number | string;

export interface CompiledRollout {
  /** Targets per batch: a count or a percentage, or a template rendered when the step starts. */
  batch: RolloutAmount;
  /** Targets of one batch running at the same time (default: the whole batch). */
  maxConcurrency?: number;
  /** Failures the rollout tolerates; one more stops it (default 0). */
  maxFailures: RolloutAmount;
  pauseBetweenMs: number;
  /** The canary: the rest waits for a decision once the first batch is done. */
  approveAfterFirstBatch?: { role: 'admin' | 'operator' | 'approver' | 'viewer'; deadlineMs?: number };
  /** `stop`: a rollout stopped by its budget fails the step (and the run); `continue`: the run goes on. */
  onFailure: 'continue' | 'stop';
  /** Which targets get the step's `compensate` steps: the failed ones, or also every done one once the rollout stops (or a template of the inputs giving one). */
  compensate: CompensateMode | string;
}

export const COMPENSATE_MODES = ['failed', 'done', 'none'] as const;
export type CompensateMode = (typeof COMPENSATE_MODES)[number];

export type TargetStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped';

export interface TargetResult {
  node: string;
  batch: number;
  status: TargetStatus;
  attempts: number;
  startedAt?: string;
  endedAt?: string;
  durationMs?: number;
  outputSummary?: string;
  error?: string;
  compensation?: { status: 'succeeded' | 'failed'; error?: string };
}

/** More batches than this would make one parent history too long: use a larger batch. */
export const MAX_BATCHES = 1_000;
/** A batch's results come back as one payload (Temporal refuses payloads over 2 MB): use a smaller batch. */
export const MAX_BATCH_TARGETS = 1_000;

/** Parses "all", or comma-separated `key=value` terms: `name=a|b` (names), `status=online`, any other key a label. */
export function parseSelectorText(text: string): TargetSelector | string {
  const trimmed = text.trim();
  if (trimmed === 'all') return { all: true };
  if (trimmed === '') return 'an empty selector: use "all", labels (site=a,role=edge), name=n1|n2 or status=online';
  const selector: TargetSelector = {};
  for (const term of trimmed.split(',')) {
    const match = /^\s*([A-Za-z0-9_./-]+)\s*=\s*([^=]+?)\s*$/.exec(term);
    if (!match) return `"${term}" is not a selector term: use key=value (site=a), name=n1|n2 or status=online`;
    const [, key, value] = match as unknown as [string, string, string];
    if (key === 'name' || key === 'names') selector.names = [...(selector.names ?? []), ...value.split('|').map((name) => name.trim())];
    else if (key === 'status') selector.status = value as TargetSelector['status'];
    else selector.labels = { ...selector.labels, [key]: value };
  }
  return checkSelector(selector) ?? selector;
}

/** Why a selector (parsed from YAML, JSON or text) is not one, or undefined. */
export function selectorProblem(value: unknown): string | undefined {
  if (typeof value === 'string') {
    const parsed = parseSelectorText(value);
    return typeof parsed === 'string' ? parsed : undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'a selector is "all", a text such as "site=a,role=edge", or an object with labels, names, status or all';
  return checkSelector(value as TargetSelector);
}

function checkSelector(selector: TargetSelector): string | undefined {
  const known = ['all', 'labels', 'names', 'status'];
  const unknown = Object.keys(selector).filter((key) => !known.includes(key));
  if (unknown.length > 0) return `unknown selector field ${unknown.map((key) => `"${key}"`).join(', ')} (use labels, names, status or all)`;
  if (selector.all !== undefined && selector.all !== true) return '"all" must be true';
  if (selector.labels !== undefined) {
    if (selector.labels === null || typeof selector.labels !== 'object' || Array.isArray(selector.labels)) return '"labels" must map label names to values';
    for (const [key, value] of Object.entries(selector.labels)) if (typeof value !== 'string' || value === '') return `label "${key}" must have a text value`;
  }
  if (selector.names !== undefined) {
    if (!Array.isArray(selector.names) || selector.names.length === 0) return '"names" must list at least one node name';
    const bad = selector.names.find((name) => !isNodeName(name));
    if (bad !== undefined) return `"${String(bad)}" is not a node name: lowercase letters, digits and "-"`;
  }
  if (selector.status !== undefined && !(TARGET_STATUSES as readonly string[]).includes(selector.status)) return `"${selector.status}" is not a node status: use ${TARGET_STATUSES.join(', ')}`;
  const criteria = (selector.labels && Object.keys(selector.labels).length > 0) || selector.names || selector.status;
  if (!selector.all && !criteria) return 'an empty selector selects nothing: use all: true, labels, names or status';
  return undefined;
}

/** The selector a step's rendered `targets` value stands for, or why it is none. */
export function toSelector(value: unknown): TargetSelector | string {
  if (typeof value === 'string') return parseSelectorText(value);
  return selectorProblem(value) ?? (value as TargetSelector);
}

/** Why an amount is not a count or a percentage, or undefined. `minimum`: 1 for a batch, 0 for a budget. */
export function amountProblem(value: unknown, minimum: 0 | 1): string | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= minimum ? undefined : `${value} is not a whole number of at least ${minimum}`;
  if (typeof value === 'string') {
    const match = /^(\d+(?:\.\d+)?)%$/.exec(value.trim());
    if (match) {
      const percent = Number(match[1]);
      return percent <= 100 && percent >= minimum ? undefined : `${value} is not a percentage between ${minimum}% and 100%`;
    }
    if (/^\d+$/.test(value.trim())) return amountProblem(Number(value.trim()), minimum);
  }
  return `${JSON.stringify(value)} is not a count (10) or a percentage ("20%")`;
}

/** How many of `total` an amount is: percentages of batches round up (never 0), of budgets down. */
export function amountOf(value: RolloutAmount, total: number, round: 'up' | 'down'): number {
  const text = typeof value === 'string' ? value.trim() : undefined;
  if (text?.endsWith('%')) {
    const share = (total * Number(text.slice(0, -1))) / 100;
    return round === 'up' ? Math.max(1, Math.ceil(share - 1e-9)) : Math.floor(share + 1e-9);
  }
  return Number(value);
}

/** The targets split in batches of `size`, in the order given. */
export function splitBatches<T>(targets: readonly T[], size: number): T[][] {
  const batches: T[][] = [];
  for (let start = 0; start < targets.length; start += size) batches.push(targets.slice(start, start + size));
  return batches;
}
