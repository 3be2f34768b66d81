// Runbook input schemas, compiled once per content and per JSON Schema draft.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { Ajv, type Options, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import AjvDraft04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { schemaPathsOf } from './json-schema-walk.js';

export type JsonSchemaDraft = '04' | '06' | '07' | '2019-09' | '2020-12';

/** The drafts a `$schema` may name, by the URI the drafts publish (http or https, with or without `#`). */
const DRAFT_URIS: Record<string, JsonSchemaDraft> = {
  'json-schema.org/draft-04/schema': '04',
  'json-schema.org/draft-06/schema': '06',
  'json-schema.org/draft-07/schema': '07',
  'json-schema.org/draft/2019-09/schema': '2019-09',
  'json-schema.org/draft/2020-12/schema': '2020-12',
};

export const SUPPORTED_DRAFTS = Object.values(DRAFT_URIS);

/** A schema Jarvis cannot compile, with the path (inside `inputs`) of the mistake when it is known. */
export class InputsSchemaError extends Error {
  constructor(
    message: string,
    readonly path = '',
  ) {
    super(message);
  }
}

const require = createRequire(import.meta.url);

// Each draft gets its own Ajv class; draft-06 is draft-07's class with the older meta-schema added.
const AJV_BY_DRAFT: Record<JsonSchemaDraft, (options: Options) => Ajv> = {
  '04': (options) => new AjvDraft04.default(options),
  '06': (options) => {
    const ajv = new Ajv(options);
    ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json') as Record<string, unknown>);
    return ajv;
  },
  '07': (options) => new Ajv(options),
  '2019-09': (options) => new Ajv2019(options),
  '2020-12': (options) => new Ajv2020(options),
};

/** The draft a schema declares with `$schema`; none means draft-07, Ajv's default and Jarvis's from the start. */
export function draftOf(schema: Record<string, unknown>): JsonSchemaDraft {
  const declared = schema.$schema;
  if (declared === undefined) return '07';
  const key = typeof declared === 'string' ? declared.replace(/^https?:\/\//, '').replace(/#$/, '') : undefined;
  const draft = key === undefined ? undefined : DRAFT_URIS[key];
  if (!draft) {
    throw new InputsSchemaError(`unsupported $schema ${JSON.stringify(declared)} (supported drafts: ${SUPPORTED_DRAFTS.join(', ')})`, '$schema');
  }
  return draft;
}

/**
 * A fresh Ajv for one schema, so no `$id` is ever shared between runbooks:
 * all errors, defaults filled in, standard formats, `format: password`
 * (Jarvis's mark of a secret), and strict about keywords JSON Schema does not
 * know (a `secret: true` would otherwise silently mean nothing, and the value
 * would show in clear). Vendor extensions (`x-...`, such as `x-secret`) are
 * annotations and stay allowed.
 */
function ajvFor(schema: Record<string, unknown>): Ajv {
  // Strict about unknown keywords only: a `default` inside a oneOf/anyOf variant (common in
  // SchemaStore's schemas) is a hint for forms that Ajv cannot apply, not a mistake.
  const logger = {
    log: () => undefined,
    warn: (...args: unknown[]) => {
      const message = args.map(String).join(' ');
      if (/unknown keyword|unknown format/.test(message)) throw new Error(message);
    },
    error: (...args: unknown[]) => {
      throw new Error(args.map(String).join(' '));
    },
  };
  const ajv = AJV_BY_DRAFT[draftOf(schema)]({ allErrors: true, useDefaults: true, strict: false, strictSchema: 'log', logger });
  addFormats.default(ajv);
  ajv.addFormat('password', true);
  for (const keyword of vendorKeywords(schema)) ajv.addKeyword({ keyword });
  return ajv;
}

// Keyed by the schema's content: every run of a runbook version reuses one validator.
const MAX_CACHED = 500;
const compiled = new Map<string, ValidateFunction>();

/**
 * Compiles a runbook's inputs schema (or returns the validator compiled for
 * the same content before). Throws InputsSchemaError naming the path of the
 * first mistake it can place.
 */
export function compileInputsSchema(schema: Record<string, unknown>): ValidateFunction {
  const key = createHash('sha256').update(JSON.stringify(schema)).digest('hex');
  const cached = compiled.get(key);
  if (cached) return cached;
  let validate: ValidateFunction;
  try {
    validate = ajvFor(schema).compile(schema);
  } catch (error) {
    if (error instanceof InputsSchemaError) throw error;
    throw placed((error as Error).message, schema);
  }
  if (compiled.size >= MAX_CACHED) compiled.delete(compiled.keys().next().value as string);
  compiled.set(key, validate);
  return validate;
}

/** Ajv's strict-mode message names the keyword but not where it is: find it. */
function placed(message: string, schema: Record<string, unknown>): InputsSchemaError {
  const keyword = /unknown keyword: "([^"]+)"/.exec(message)?.[1];
  if (!keyword) return new InputsSchemaError(message);
  const at = schemaPathsOf(schema).find(({ node }) => Object.hasOwn(node, keyword));
  if (!at) return new InputsSchemaError(message);
  const path = [...at.path, keyword].join('.');
  return new InputsSchemaError(`${message} (at inputs.${path})`, path);
}

function vendorKeywords(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) vendorKeywords(item, found);
  else if (value && typeof value === 'object') {
    for (const [key, entry] of Object.entries(value)) {
      if (key.startsWith('x-') && /^[a-z_$][a-z0-9_$:-]*$/i.test(key)) found.add(key);
      vendorKeywords(entry, found);
    }
  }
  return found;
}
