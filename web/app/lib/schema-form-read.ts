// Reads the runbook form's fields back into the JSON instance its schema
// describes, checking on the way what the browser can check (the API checks
// everything once more with Ajv). It runs in the browser before a submit and
// in the route's action, on the same fields, through the same classification
// as the drawing (schema-node.ts).
import { classify, looksLike, rootContext, type JsonSchema, type SchemaContext, type SchemaNode } from './schema-node.js';

export interface FieldError {
  /** Dotted path of the field, e.g. `target.port` or `servers.0.host`. */
  path: string;
  code: 'required' | 'type' | 'enum' | 'minimum' | 'maximum' | 'minLength' | 'maxLength' | 'pattern' | 'minItems' | 'maxItems' | 'json' | 'mapKey' | 'duplicateKey' | 'server';
  params?: Record<string, string | number>;
}

/** Joins a path and one more segment (a property, an index, or a `#marker` of the form's own). */
export const joinPath = (path: string, segment: string | number) => (path ? `${path}.${segment}` : String(segment));
export const fieldName = (path: string) => `inputs.${path}`;
export const markerName = (path: string, marker: 'variant' | 'count' | 'key' | 'null') => fieldName(joinPath(path, `#${marker}`));

/** Enum options travel as themselves when all are strings (readable values), else as JSON so 1, "1" and null stay apart. */
export const enumAsJson = (options: unknown[]) => !options.every((option) => typeof option === 'string');
export const encodeOption = (options: unknown[], option: unknown) => (enumAsJson(options) ? JSON.stringify(option) : String(option));

/** `datetime-local` fields hold UTC wall time (the label says so); the instance gets an RFC 3339 UTC time. */
export function dateTimeFromField(raw: string): string {
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d$/.test(raw) ? `${raw}:00Z` : /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?$/.test(raw) ? `${raw}Z` : raw;
}

export function dateTimeForField(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const time = Date.parse(value);
  return /[zZ]|[+-]\d\d:\d\d$/.test(value) && !Number.isNaN(time) ? new Date(time).toISOString().slice(0, 19) : value;
}

class FormReader {
  readonly errors: FieldError[] = [];
  constructor(private readonly form: FormData) {}

  private text(name: string): string | undefined {
    const raw = this.form.get(name);
    return typeof raw === 'string' ? raw : undefined;
  }

  /** The value at `path`; `undefined` when the field was left empty (an absent property). */
  read(schema: JsonSchema, context: SchemaContext, path: string, required: boolean): unknown {
    const node = classify(schema, context);
    if (node.nullable && this.text(markerName(path, 'null')) === 'on') return null;
    switch (node.kind) {
      case 'object':
        return this.readObject(node, path, required);
      case 'array': {
        const count = Number(this.text(markerName(path, 'count')) ?? 0);
        const items: unknown[] = [];
        for (let index = 0; index < count; index += 1) {
          const item = this.read(node.items, node.context, joinPath(path, index), true);
          if (item !== undefined) items.push(item);
        }
        if (items.length === 0 && !required && node.schema.default === undefined) return undefined;
        if (node.schema.minItems !== undefined && items.length < node.schema.minItems) this.errors.push({ path, code: 'minItems', params: { limit: node.schema.minItems } });
        if (node.schema.maxItems !== undefined && items.length > node.schema.maxItems) this.errors.push({ path, code: 'maxItems', params: { limit: node.schema.maxItems } });
        return items;
      }
      case 'variants': {
        const chosen = node.variants[Number(this.text(markerName(path, 'variant')) ?? 0)] ?? node.variants[0]!;
        return this.read(chosen, node.context, path, required);
      }
      case 'const':
        return node.value;
      case 'null':
        return null;
      case 'enum': {
        const raw = this.text(fieldName(path));
        if (raw === undefined || raw === '') return undefined;
        if (!enumAsJson(node.options)) return raw;
        try {
          return JSON.parse(raw) as unknown;
        } catch {
          return void this.errors.push({ path, code: 'enum' });
        }
      }
      case 'boolean': {
        const raw = this.text(fieldName(path));
        // Required booleans are checkboxes; optional ones a three-way choice whose "not set" leaves them out.
        if (required) return raw === 'on';
        return raw === 'true' ? true : raw === 'false' ? false : undefined;
      }
      case 'json':
        return this.readJson(path);
      default:
        return this.readScalar(node, path);
    }
  }

  private readObject(node: Extract<SchemaNode, { kind: 'object' }>, path: string, required: boolean): Record<string, unknown> | undefined {
    const value: Record<string, unknown> = {};
    const firstError = this.errors.length;
    for (const [name, property] of node.properties) {
      const here = joinPath(path, name);
      const item = this.read(property, node.context, here, node.required.has(name));
      if (item !== undefined) value[name] = item;
      else if (node.required.has(name) && !this.errors.some((error) => error.path === here)) this.errors.push({ path: here, code: 'required' });
    }
    if (node.additional) {
      const count = Number(this.text(markerName(path, 'count')) ?? 0);
      for (let index = 0; index < count; index += 1) {
        const row = joinPath(path, index);
        const key = this.text(markerName(row, 'key'))?.trim() ?? '';
        const item = this.read(node.additional, node.context, row, true);
        if (key === '' && item === undefined) continue;
        if (key === '') this.errors.push({ path: joinPath(row, '#key'), code: 'mapKey' });
        else if (Object.hasOwn(value, key)) this.errors.push({ path: joinPath(row, '#key'), code: 'duplicateKey', params: { key } });
        else value[key] = item ?? null;
      }
    }
    if (required || node.schema.default !== undefined) return value;
    // An optional object left alone (empty, or holding only its properties' own defaults) is left out, as an empty field is.
    const untouched = Object.entries(value).every(([name, item]) => {
      const property = node.properties.find(([declared]) => declared === name)?.[1];
      const fallback = property ? classify(property, node.context).schema.default : undefined;
      return fallback !== undefined && JSON.stringify(fallback) === JSON.stringify(item);
    });
    // Missing required fields of an object left out do not matter; a JSON editor that does not parse always does.
    if (!untouched || !this.errors.slice(firstError).every((error) => error.code === 'required')) return value;
    this.errors.length = firstError;
    return undefined;
  }

  private readJson(path: string): unknown {
    const raw = this.text(fieldName(path));
    if (raw === undefined || raw.trim() === '') return undefined;
    try {
      return JSON.parse(raw) as unknown;
    } catch (error) {
      this.errors.push({ path, code: 'json', params: { message: (error as Error).message } });
      return undefined;
    }
  }

  private readScalar(node: Extract<SchemaNode, { kind: 'string' | 'number' | 'integer' }>, path: string): unknown {
    const raw = this.text(fieldName(path));
    if (raw === undefined || raw === '') return undefined;
    const { schema } = node;
    if (node.kind === 'string') {
      const value = schema.format === 'date-time' ? dateTimeFromField(raw) : raw;
      if (schema.minLength !== undefined && value.length < schema.minLength) this.errors.push({ path, code: 'minLength', params: { limit: schema.minLength } });
      if (schema.maxLength !== undefined && value.length > schema.maxLength) this.errors.push({ path, code: 'maxLength', params: { limit: schema.maxLength } });
      if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) this.errors.push({ path, code: 'pattern', params: { pattern: schema.pattern } });
      return value;
    }
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value) || (node.kind === 'integer' && !Number.isInteger(value))) {
      this.errors.push({ path, code: 'type', params: { type: node.kind } });
      return raw;
    }
    if (typeof schema.minimum === 'number' && value < schema.minimum) this.errors.push({ path, code: 'minimum', params: { limit: schema.minimum } });
    if (typeof schema.maximum === 'number' && value > schema.maximum) this.errors.push({ path, code: 'maximum', params: { limit: schema.maximum } });
    return value;
  }
}

/** The form's value for the runbook's inputs schema, and what is wrong with it. */
export function readInputs(schema: JsonSchema, form: FormData): { value: Record<string, unknown>; errors: FieldError[] } {
  const reader = new FormReader(form);
  const value = reader.read(schema, rootContext(schema), '', true);
  return { value: value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {}, errors: reader.errors };
}

const isSecret = (schema: JsonSchema) => schema.format === 'password' || schema['x-secret'] === true;

function stripSecrets(schema: JsonSchema, context: SchemaContext, value: unknown): unknown {
  const node = classify(schema, context);
  if (isSecret(node.schema)) return undefined;
  if (node.kind === 'variants') {
    const variant = node.variants.find((candidate) => looksLike(classify(candidate, node.context), value));
    return variant ? stripSecrets(variant, node.context, value) : value;
  }
  if (node.kind === 'array' && Array.isArray(value)) return value.map((item) => stripSecrets(node.items, node.context, item) ?? null);
  if (node.kind !== 'object' || !value || typeof value !== 'object' || Array.isArray(value)) return value;
  const declared = new Map(node.properties);
  const kept: Record<string, unknown> = {};
  for (const [name, item] of Object.entries(value)) {
    const property = declared.get(name) ?? node.additional;
    const stripped = property ? stripSecrets(property, node.context, item) : item;
    if (stripped !== undefined) kept[name] = stripped;
  }
  return kept;
}

/** What the user typed, without secrets (at any depth), to refill the form after a refusal. */
export function withoutSecrets(schema: JsonSchema, value: Record<string, unknown>): Record<string, unknown> {
  return (stripSecrets(schema, rootContext(schema), value) as Record<string, unknown> | undefined) ?? {};
}
