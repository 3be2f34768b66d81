// Redaction of secret values, shared by the log sink, the workflow and the
// API (pure: it runs inside the workflow sandbox too).
import type { CompiledRunbook } from './types.js';

export const REDACTED = '***';

/** Replaces every occurrence of each secret (of 4 characters or more) with `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) if (secret.length >= 4) result = result.split(secret).join(REDACTED);
  return result;
}

/** Whether an input's schema marks it secret (`format: password` or `x-secret: true`). */
export function isSecretInput(schema: { format?: unknown; 'x-secret'?: unknown } | undefined): boolean {
  return schema?.format === 'password' || schema?.['x-secret'] === true;
}

type Schema = Record<string, unknown>;
const MAX_DEPTH = 32;

/** A local `$ref` (`#/$defs/x`, `#/definitions/x`, `#/properties/...`) followed in the root schema. */
function resolved(schema: unknown, root: Schema, depth = 0): Schema | undefined {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return undefined;
  const reference = (schema as Schema).$ref;
  if (typeof reference !== 'string' || depth > MAX_DEPTH) return schema as Schema;
  if (!reference.startsWith('#')) return schema as Schema;
  let target: unknown = root;
  for (const part of reference.slice(1).split('/').filter(Boolean)) {
    if (target === null || typeof target !== 'object') return undefined;
    target = (target as Schema)[decodeURIComponent(part.replace(/~1/g, '/').replace(/~0/g, '~'))];
  }
  return resolved(target, root, depth + 1);
}

/** The schema and every subschema of its allOf/anyOf/oneOf (a variant could be the one the value follows). */
function alternatives(schema: Schema | undefined, root: Schema, depth: number): Schema[] {
  if (!schema || depth > MAX_DEPTH) return [];
  const branches = ['allOf', 'anyOf', 'oneOf'].flatMap((keyword) => (Array.isArray(schema[keyword]) ? (schema[keyword] as unknown[]) : []));
  return [schema, ...branches.flatMap((branch) => alternatives(resolved(branch, root), root, depth + 1))];
}

/**
 * Walks a value along its schema, at any depth (properties, maps, array items, local
 * `$ref`s, every allOf/anyOf/oneOf variant), calling `onSecret` for each value a
 * schema marks secret and keeping the rest.
 */
function walkSecrets(schema: unknown, value: unknown, root: Schema, onSecret: (value: unknown) => unknown, depth = 0): unknown {
  if (value === undefined || depth > MAX_DEPTH) return value;
  const candidates = alternatives(resolved(schema, root), root, depth);
  if (candidates.some((candidate) => isSecretInput(candidate))) return onSecret(value);
  if (Array.isArray(value)) {
    const items = candidates.map((candidate) => candidate.items).filter((item) => item !== undefined && !Array.isArray(item));
    return value.map((item) => items.reduce((current: unknown, itemSchema) => walkSecrets(itemSchema, current, root, onSecret, depth + 1), item));
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([name, item]) => {
        const schemas = candidates.map((candidate) => (candidate.properties as Schema | undefined)?.[name] ?? (typeof candidate.additionalProperties === 'object' ? candidate.additionalProperties : undefined)).filter((found) => found !== undefined);
        return [name, schemas.reduce((current: unknown, propertySchema) => walkSecrets(propertySchema, current, root, onSecret, depth + 1), item)];
      }),
    );
  }
  return value;
}

/** Values of the inputs a runbook marks secret (at any depth), to redact wherever they could show. */
export function secretInputValues(runbook: CompiledRunbook, inputs: Record<string, unknown>): string[] {
  const found: string[] = [];
  walkSecrets(runbook.inputs, inputs, runbook.inputs as Schema, (value) => {
    if (typeof value === 'string' && value.length > 0) found.push(value);
    else if (value !== null && typeof value === 'object') found.push(...JSON.stringify(value).match(/"(?:[^"\\]|\\.)*"/g)?.map((text) => JSON.parse(text) as string).filter((text) => text.length >= 4) ?? []);
    return value;
  });
  return found;
}

/** The inputs with every secret one (at any depth) replaced by `***`. */
export function maskSecretInputs(runbook: CompiledRunbook, inputs: Record<string, unknown>): Record<string, unknown> {
  return walkSecrets(runbook.inputs, inputs, runbook.inputs as Schema, () => REDACTED) as Record<string, unknown>;
}
