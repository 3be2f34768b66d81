import type { ErrorObject } from 'ajv';
import { compileInputsSchema } from '../manifest/json-schema.js';
import type { ManifestError } from '../manifest/errors.js';
import type { CompiledRunbook } from '../manifest/types.js';
import { JarvisProblem } from '../manifest/errors.js';

function describeInputError(error: ErrorObject): ManifestError {
  const where = error.instancePath.replace(/^\//, '').replace(/\//g, '.');
  if (error.keyword === 'required') {
    const missing = (error.params as { missingProperty: string }).missingProperty;
    return { path: `inputs.${where ? `${where}.` : ''}${missing}`, message: 'required' };
  }
  if (error.keyword === 'additionalProperties') {
    const extra = (error.params as { additionalProperty: string }).additionalProperty;
    return { path: `inputs.${where ? `${where}.` : ''}${extra}`, message: 'not an input of this runbook' };
  }
  return { path: where ? `inputs.${where}` : 'inputs', message: error.message ?? 'invalid' };
}

/**
 * Validates run inputs against the runbook's JSON Schema, filling defaults;
 * refuses before any workflow starts. The validator is the one the loader
 * compiled for the same schema content, under the draft its `$schema` names.
 */
export function validateRunInputs(runbook: CompiledRunbook, inputs: Record<string, unknown>): Record<string, unknown> {
  const validate = compileInputsSchema(runbook.inputs);
  const copy = structuredClone(inputs);
  if (!validate(copy)) {
    throw new JarvisProblem(`inputs for runbook "${runbook.name}" are invalid:`, 'invalid', (validate.errors ?? []).map(describeInputError));
  }
  return copy;
}
