import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';

/**
 * The one Ajv setup for runbook input schemas: all errors, defaults filled
 * in, standard formats, and `format: password` (Jarvis's mark of a secret).
 */
export function createInputsAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
  addFormats.default(ajv);
  ajv.addFormat('password', true);
  return ajv;
}

/**
 * Compiles an inputs schema as a manifest is loaded, refusing keywords that
 * JSON Schema does not know (a `secret: true` would otherwise silently mean
 * nothing, and the value would show in clear). Vendor extensions (`x-...`,
 * such as `x-secret`) are annotations and stay allowed.
 */
export function compileInputsSchemaStrictly(schema: Record<string, unknown>): void {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, strictSchema: true });
  addFormats.default(ajv);
  ajv.addFormat('password', true);
  for (const keyword of vendorKeywords(schema)) ajv.addKeyword({ keyword });
  ajv.compile(schema);
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
