import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';

/** The one Ajv setup for runbook input schemas: all errors, defaults filled in, standard formats. */
export function createInputsAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
  addFormats.default(ajv);
  return ajv;
}
