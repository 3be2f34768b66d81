// What the runbook form draws for one subschema, as users write schemas
// (SchemaStore style): local `$ref`s into `$defs`/`definitions` followed (a
// recursive one stops at a JSON editor), `allOf` merged, `oneOf`/`anyOf` and
// type lists turned into variants to choose from. The form and the reading of
// its fields both classify through here, so they always agree on the shape.

export interface JsonSchema {
  [keyword: string]: unknown;
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  format?: string;
  nullable?: boolean;
  'x-secret'?: boolean;
  $ref?: string;
  properties?: Record<string, JsonSchema | boolean>;
  additionalProperties?: JsonSchema | boolean;
  required?: string[];
  items?: JsonSchema | boolean | Array<JsonSchema | boolean>;
  allOf?: Array<JsonSchema | boolean>;
  anyOf?: Array<JsonSchema | boolean>;
  oneOf?: Array<JsonSchema | boolean>;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
}

/** The root (for `$ref`s) and the refs already followed on the way here (to stop recursion). */
export interface SchemaContext {
  root: JsonSchema;
  seen: readonly string[];
}

interface Common {
  /** The subschema with refs followed and `allOf` merged. */
  schema: JsonSchema;
  context: SchemaContext;
  /** `null` is allowed besides the drawn type (`nullable: true` or a type list with "null"). */
  nullable: boolean;
}

export type SchemaNode = Common &
  (
    | { kind: 'object'; properties: Array<[string, JsonSchema]>; required: Set<string>; additional?: JsonSchema }
    | { kind: 'array'; items: JsonSchema }
    | { kind: 'variants'; variants: JsonSchema[] }
    | { kind: 'enum'; options: unknown[] }
    | { kind: 'const'; value: unknown }
    | { kind: 'boolean' }
    | { kind: 'string' }
    | { kind: 'number' }
    | { kind: 'integer' }
    | { kind: 'null' }
    /** Anything the form cannot draw: edited as JSON text. */
    | { kind: 'json' }
  );

// Deeper than this, a subschema is edited as JSON (mutually recursive refs through variants).
const MAX_DEPTH = 12;

const isObject = (value: unknown): value is Record<string, unknown> => Boolean(value) && typeof value === 'object' && !Array.isArray(value);

/** `true`, `{}` and `false` as schemas; anything else that is not an object counts as "anything". */
export const asSchema = (value: unknown): JsonSchema => (isObject(value) ? (value as JsonSchema) : {});

export const rootContext = (root: JsonSchema): SchemaContext => ({ root, seen: [] });

function pointerTarget(root: JsonSchema, ref: string): JsonSchema | undefined {
  const id = typeof root.$id === 'string' ? root.$id : typeof root.id === 'string' ? root.id : undefined;
  let local = ref;
  // A ref spelled with the root's own id is local too.
  if (id && ref.startsWith(id.replace(/#$/, ''))) local = ref.slice(id.replace(/#$/, '').length);
  if (!local.startsWith('#')) return undefined;
  if (local === '#') return root;
  if (!local.startsWith('#/')) return undefined;
  let current: unknown = root;
  for (const raw of local.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    current = Array.isArray(current) ? current[Number(key)] : isObject(current) ? current[key] : undefined;
    if (current === undefined) return undefined;
  }
  return typeof current === 'boolean' ? {} : isObject(current) ? (current as JsonSchema) : undefined;
}

/** Two schemas as one (`allOf`): properties merged property by property, `required` joined, the rest first come. */
export function mergeSchemas(base: JsonSchema, extra: JsonSchema): JsonSchema {
  const merged: JsonSchema = { ...extra, ...base };
  if (base.properties || extra.properties) {
    const properties: Record<string, JsonSchema | boolean> = { ...(extra.properties ?? {}) };
    for (const [name, schema] of Object.entries(base.properties ?? {})) {
      const other = properties[name];
      properties[name] = other === undefined ? schema : { allOf: [asSchema(schema), asSchema(other)] };
    }
    merged.properties = properties;
  }
  if (base.required || extra.required) merged.required = [...new Set([...(base.required ?? []), ...(extra.required ?? [])])];
  if (base.type === undefined && extra.type !== undefined) merged.type = extra.type;
  return merged;
}

/** Follows `$ref`s and merges `allOf`; `undefined` when a ref cannot be followed (or loops back on itself). */
export function resolveSchema(schema: JsonSchema, context: SchemaContext): { schema: JsonSchema; context: SchemaContext } | undefined {
  let current = schema;
  let seen = context.seen;
  while (typeof current.$ref === 'string') {
    const ref = current.$ref;
    if (seen.includes(ref) || seen.length >= MAX_DEPTH) return undefined;
    const target = pointerTarget(context.root, ref);
    if (!target) return undefined;
    seen = [...seen, ref];
    const { $ref: _ref, ...siblings } = current;
    // Words next to a $ref (a title, a description, a default) describe this use of it, so they win.
    current = mergeSchemas(siblings, target);
  }
  if (Array.isArray(current.allOf)) {
    const { allOf, ...rest } = current;
    let merged: JsonSchema = rest;
    for (const part of allOf) {
      const resolved = resolveSchema(asSchema(part), { root: context.root, seen });
      if (!resolved) return undefined;
      merged = mergeSchemas(merged, resolved.schema);
      seen = resolved.context.seen;
    }
    return resolveSchema(merged, { root: context.root, seen });
  }
  return { schema: current, context: { root: context.root, seen } };
}

const typesOf = (schema: JsonSchema): string[] => (Array.isArray(schema.type) ? schema.type : typeof schema.type === 'string' ? [schema.type] : []);

/** What to draw for a subschema. */
export function classify(raw: JsonSchema, context: SchemaContext): SchemaNode {
  const resolved = resolveSchema(raw, context);
  if (!resolved) return { kind: 'json', schema: raw, context, nullable: false };
  const { schema } = resolved;
  const here = resolved.context;
  const types = typesOf(schema);
  const nullable = schema.nullable === true || types.includes('null');
  const common = { schema, context: here, nullable };

  const choices = Array.isArray(schema.oneOf) ? schema.oneOf : Array.isArray(schema.anyOf) ? schema.anyOf : undefined;
  if (choices) {
    const { oneOf: _oneOf, anyOf: _anyOf, title: _title, description: _description, default: _default, ...base } = schema;
    // Keywords beside oneOf apply to every variant (the SchemaStore habit of shared properties).
    const variants = choices.map((choice) => mergeSchemas(asSchema(choice), base));
    if (variants.length === 1) return classify({ ...variants[0]!, title: schema.title ?? variants[0]!.title, description: schema.description ?? variants[0]!.description, default: schema.default }, here);
    return { kind: 'variants', variants, ...common, nullable: false };
  }
  if (schema.const !== undefined) return { kind: 'const', value: schema.const, ...common, nullable: false };
  if (Array.isArray(schema.enum)) return { kind: 'enum', options: schema.enum, ...common, nullable: false };

  const drawn = types.filter((type) => type !== 'null');
  if (drawn.length > 1) return { kind: 'variants', variants: drawn.map((type) => ({ ...schema, type, title: undefined, description: undefined, default: undefined })), ...common };
  const type = drawn[0] ?? (types.includes('null') ? 'null' : schema.properties || isObject(schema.additionalProperties) ? 'object' : schema.items !== undefined ? 'array' : undefined);
  switch (type) {
    case 'object': {
      const properties = Object.entries(schema.properties ?? {}).map(([name, property]): [string, JsonSchema] => [name, asSchema(property)]);
      const additional = isObject(schema.additionalProperties) ? (schema.additionalProperties as JsonSchema) : undefined;
      // An object with nothing declared (any keys, or only patterns) is free-form.
      if (properties.length === 0 && !additional) return { kind: 'json', ...common };
      return { kind: 'object', properties, required: new Set(schema.required ?? []), additional, ...common };
    }
    case 'array':
      if (!isObject(schema.items) && schema.items !== true) return { kind: 'json', ...common };
      return { kind: 'array', items: asSchema(schema.items), ...common };
    case 'string':
    case 'number':
    case 'integer':
    case 'boolean':
    case 'null':
      return { kind: type, ...common, nullable: type === 'null' ? false : nullable };
    default:
      return { kind: 'json', ...common, nullable: false };
  }
}

/** How a variant is named in its chooser: its title, its const, its discriminating property, or its type. */
export function variantLabel(variant: JsonSchema, context: SchemaContext, index: number): string | { index: number } {
  if (variant.title) return variant.title;
  const node = classify(variant, context);
  if (node.schema.title) return node.schema.title;
  if (node.kind === 'const') return JSON.stringify(node.value);
  if (node.kind === 'object') {
    for (const [name, property] of node.properties) {
      const inner = classify(property, node.context);
      if (inner.kind === 'const') return `${name}: ${typeof inner.value === 'string' ? inner.value : JSON.stringify(inner.value)}`;
    }
  }
  if (node.kind === 'json' || node.kind === 'variants') return { index };
  return node.kind;
}

/** Whether a value looks like one of a variant's instances (to open the form on the variant a default or a typed value has). */
export function looksLike(node: SchemaNode, value: unknown): boolean {
  switch (node.kind) {
    case 'const':
      return JSON.stringify(node.value) === JSON.stringify(value);
    case 'enum':
      return node.options.some((option) => JSON.stringify(option) === JSON.stringify(value));
    case 'null':
      return value === null;
    case 'boolean':
      return typeof value === 'boolean';
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number';
    case 'integer':
      return Number.isInteger(value);
    case 'array':
      return Array.isArray(value);
    case 'object':
      return (
        isObject(value) &&
        [...node.required].every((name) => value[name] !== undefined) &&
        node.properties.every(([name, property]) => {
          const inner = classify(property, node.context);
          return value[name] === undefined || inner.kind !== 'const' || looksLike(inner, value[name]);
        })
      );
    default:
      return true;
  }
}
