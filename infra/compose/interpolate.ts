// Compose variable interpolation as `docker stack deploy` does it: `$VAR`,
// `${VAR}`, `${VAR:-default}` / `${VAR-default}`, `${VAR:?message}` /
// `${VAR?message}`, `$$` for a literal `$`. Values only, never keys; after
// substitution, values at the paths Docker casts (replicas, ports, booleans…)
// become numbers or booleans.
import type { ManifestError } from '../../manifest/errors.js';
import { joinPath } from '../../manifest/errors.js';

export type Lookup = (name: string) => string | undefined;

const PATTERN = /\$(?:(\$)|([_a-zA-Z][_a-zA-Z0-9]*)|\{([^}]*)\}|)/g;
const BRACED = /^([_a-zA-Z][_a-zA-Z0-9]*)(?:(:?)([-?])([\s\S]*))?$/;

export class InterpolationError extends Error {
  override name = 'InterpolationError';
}

/** Substitutes the variables of one string; throws InterpolationError with what to fix. */
export function substitute(template: string, lookup: Lookup): string {
  return template.replace(PATTERN, (whole, escaped: string | undefined, named: string | undefined, braced: string | undefined) => {
    if (escaped) return '$';
    if (named) return lookup(named) ?? '';
    const match = braced === undefined ? null : BRACED.exec(braced);
    if (!match) throw new InterpolationError(`invalid variable reference "${whole}" in "${template}" (write $$ for a literal $)`);
    const [, name = '', colon, operator, argument = ''] = match;
    const value = lookup(name);
    // With a colon an empty value counts as unset, as in the shell.
    const unset = value === undefined || (colon === ':' && value === '');
    if (operator === '-') return unset ? argument : (value ?? '');
    if (operator === '?') {
      if (unset) throw new InterpolationError(argument ? `required variable ${name} is missing a value: ${argument}` : `required variable ${name} is missing a value`);
      return value ?? '';
    }
    return value ?? '';
  });
}

type Cast = (text: string) => unknown;
const toInteger: Cast = (text) => {
  if (!/^[-+]?\d+$/.test(text.trim())) throw new InterpolationError(`"${text}" is not an integer`);
  return Number(text);
};
const toFloat: Cast = (text) => {
  const value = Number(text);
  if (text.trim() === '' || Number.isNaN(value)) throw new InterpolationError(`"${text}" is not a number`);
  return value;
};
const toBoolean: Cast = (text) => {
  const lower = text.toLowerCase();
  if (['y', 'yes', 'true', 'on'].includes(lower)) return true;
  if (['n', 'no', 'false', 'off'].includes(lower)) return false;
  throw new InterpolationError(`"${text}" is not a boolean (true or false)`);
};

/** Paths (with `*` for any key or index) whose interpolated strings Docker casts to numbers or booleans. */
const CASTS: Array<[string[], Cast]> = [
  ...(
    [
      [['configs', '*', 'mode'], toInteger],
      [['secrets', '*', 'mode'], toInteger],
      [['healthcheck', 'retries'], toInteger],
      [['healthcheck', 'disable'], toBoolean],
      [['deploy', 'replicas'], toInteger],
      [['deploy', 'update_config', 'parallelism'], toInteger],
      [['deploy', 'update_config', 'max_failure_ratio'], toFloat],
      [['deploy', 'rollback_config', 'parallelism'], toInteger],
      [['deploy', 'rollback_config', 'max_failure_ratio'], toFloat],
      [['deploy', 'restart_policy', 'max_attempts'], toInteger],
      [['deploy', 'placement', 'max_replicas_per_node'], toInteger],
      [['ports', '*', 'target'], toInteger],
      [['ports', '*', 'published'], toInteger],
      [['ulimits', '*'], toInteger],
      [['ulimits', '*', 'hard'], toInteger],
      [['ulimits', '*', 'soft'], toInteger],
      [['oom_score_adj'], toInteger],
      [['read_only'], toBoolean],
      [['stdin_open'], toBoolean],
      [['tty'], toBoolean],
      [['privileged'], toBoolean],
      [['volumes', '*', 'read_only'], toBoolean],
      [['volumes', '*', 'volume', 'nocopy'], toBoolean],
    ] as Array<[string[], Cast]>
  ).map(([path, cast]): [string[], Cast] => [['services', '*', ...path], cast]),
  [['networks', '*', 'external'], toBoolean],
  [['networks', '*', 'internal'], toBoolean],
  [['networks', '*', 'attachable'], toBoolean],
  [['volumes', '*', 'external'], toBoolean],
  [['secrets', '*', 'external'], toBoolean],
  [['configs', '*', 'external'], toBoolean],
];

function castFor(path: readonly PropertyKey[]): Cast | undefined {
  return CASTS.find(([pattern]) => pattern.length === path.length && pattern.every((part, index) => part === '*' || part === String(path[index])))?.[1];
}

/**
 * Interpolates every string value of a parsed Compose file (keys stay as written; `x-*`
 * extension fields too, as Docker does). Errors are collected with their path.
 */
export function interpolateCompose(value: unknown, lookup: Lookup, errors: ManifestError[], path: PropertyKey[] = []): unknown {
  if (typeof value === 'string') {
    try {
      const text = substitute(value, lookup);
      // Docker casts only what a substitution changed: a quoted "8080" stays a string (and is refused where a number is due).
      const cast = text === value ? undefined : castFor(path);
      return cast ? cast(text) : text;
    } catch (error) {
      if (!(error instanceof InterpolationError)) throw error;
      errors.push({ path: joinPath('', ...path) || '(root)', message: error.message });
      return value;
    }
  }
  if (Array.isArray(value)) return value.map((item, index) => interpolateCompose(item, lookup, errors, [...path, index]));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolateCompose(item, lookup, errors, [...path, key])]));
  }
  return value;
}

/**
 * An env file as Docker reads one: `KEY=VALUE` lines taken literally (no quotes
 * removed), `#` comments and blank lines skipped, a bare `KEY` taken from the
 * lookup when it has a value and skipped otherwise.
 */
export function parseEnvFile(text: string, lookup: Lookup, source: string): Array<[string, string]> {
  const entries: Array<[string, string]> = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.replace(/^\s+/, '');
    if (line === '' || line.startsWith('#')) return;
    const equals = line.indexOf('=');
    const key = equals === -1 ? line.trimEnd() : line.slice(0, equals);
    if (key === '' || /\s/.test(key)) throw new InterpolationError(`${source} line ${index + 1}: "${key}" is not a variable name (variables cannot contain spaces)`);
    if (equals !== -1) entries.push([key, line.slice(equals + 1)]);
    else {
      const value = lookup(key);
      if (value !== undefined) entries.push([key, value]);
    }
  });
  return entries;
}
