// A form generated from a runbook's input JSON Schema: strings, numbers,
// booleans, enums (selects), arrays, nested objects and secrets (password
// fields), with defaults, descriptions as help text and the same validation in
// the browser and on the server (the API validates once more with Ajv).
import type { MessageKey, Translate } from '../i18n/index.js';

export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  format?: string;
  'x-secret'?: boolean;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
}

export interface FieldError {
  /** Dotted path of the field, e.g. `target.port`. */
  path: string;
  code: 'required' | 'type' | 'enum' | 'minimum' | 'maximum' | 'minLength' | 'maxLength' | 'pattern' | 'minItems' | 'maxItems' | 'server';
  params?: Record<string, string | number>;
}

const typeOf = (schema: JsonSchema): string => (Array.isArray(schema.type) ? (schema.type.find((type) => type !== 'null') ?? 'string') : (schema.type ?? (schema.properties ? 'object' : 'string')));
const isSecret = (schema: JsonSchema) => schema.format === 'password' || schema['x-secret'] === true;
const fieldName = (path: string) => `inputs.${path}`;
const fieldId = (path: string) => `field-${path.replace(/[^A-Za-z0-9_-]/g, '-')}`;

/** Reads the form's fields back into a value shaped by the schema; empty optional fields are left out. */
export function formToValue(schema: JsonSchema, form: FormData, path = ''): Record<string, unknown> {
  const value: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const here = path ? `${path}.${name}` : name;
    const type = typeOf(property);
    if (type === 'object') {
      const nested = formToValue(property, form, here);
      if (Object.keys(nested).length > 0) value[name] = nested;
      continue;
    }
    if (type === 'boolean') {
      value[name] = form.get(fieldName(here)) === 'on';
      continue;
    }
    const raw = form.get(fieldName(here));
    if (typeof raw !== 'string' || raw === '') continue;
    if (type === 'array') {
      const itemType = typeOf(property.items ?? {});
      if (itemType === 'object' || itemType === 'array') {
        try {
          value[name] = JSON.parse(raw);
        } catch {
          value[name] = raw;
        }
      } else {
        value[name] = raw
          .split('\n')
          .map((line) => line.trim())
          .filter(Boolean)
          .map((item) => (itemType === 'number' || itemType === 'integer') && item.trim() !== '' && !Number.isNaN(Number(item)) ? Number(item) : item);
      }
      continue;
    }
    value[name] = (type === 'number' || type === 'integer') && raw.trim() !== '' && !Number.isNaN(Number(raw)) ? Number(raw) : raw;
  }
  return value;
}

function checkValue(schema: JsonSchema, value: unknown, path: string, errors: FieldError[]): void {
  const type = typeOf(schema);
  if (schema.enum && !schema.enum.some((option) => JSON.stringify(option) === JSON.stringify(value))) {
    errors.push({ path, code: 'enum' });
    return;
  }
  switch (type) {
    case 'string':
      if (typeof value !== 'string') return void errors.push({ path, code: 'type', params: { type } });
      if (schema.minLength !== undefined && value.length < schema.minLength) errors.push({ path, code: 'minLength', params: { limit: schema.minLength } });
      if (schema.maxLength !== undefined && value.length > schema.maxLength) errors.push({ path, code: 'maxLength', params: { limit: schema.maxLength } });
      if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) errors.push({ path, code: 'pattern', params: { pattern: schema.pattern } });
      return;
    case 'number':
    case 'integer':
      if (typeof value !== 'number' || (type === 'integer' && !Number.isInteger(value))) return void errors.push({ path, code: 'type', params: { type } });
      if (schema.minimum !== undefined && value < schema.minimum) errors.push({ path, code: 'minimum', params: { limit: schema.minimum } });
      if (schema.maximum !== undefined && value > schema.maximum) errors.push({ path, code: 'maximum', params: { limit: schema.maximum } });
      return;
    case 'boolean':
      if (typeof value !== 'boolean') errors.push({ path, code: 'type', params: { type } });
      return;
    case 'array':
      if (!Array.isArray(value)) return void errors.push({ path, code: 'type', params: { type } });
      if (schema.minItems !== undefined && value.length < schema.minItems) errors.push({ path, code: 'minItems', params: { limit: schema.minItems } });
      if (schema.maxItems !== undefined && value.length > schema.maxItems) errors.push({ path, code: 'maxItems', params: { limit: schema.maxItems } });
      if (schema.items) value.forEach((item, index) => checkValue(schema.items!, item, `${path}.${index}`, errors));
      return;
    case 'object':
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return void errors.push({ path, code: 'type', params: { type } });
      validateObject(schema, value as Record<string, unknown>, path, errors);
      return;
  }
}

function validateObject(schema: JsonSchema, value: Record<string, unknown>, path: string, errors: FieldError[]): void {
  for (const name of schema.required ?? []) {
    if (value[name] === undefined) errors.push({ path: path ? `${path}.${name}` : name, code: 'required' });
  }
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    if (value[name] !== undefined) checkValue(property, value[name], path ? `${path}.${name}` : name, errors);
  }
}

export function validateInputs(schema: JsonSchema, value: Record<string, unknown>): FieldError[] {
  const errors: FieldError[] = [];
  validateObject(schema, value, '', errors);
  return errors;
}

export function errorMessage(t: Translate, error: FieldError & { message?: string }): string {
  if (error.code === 'server') return error.message ?? t('form.invalid');
  const key = `form.error.${error.code}` as MessageKey;
  return t(key, error.params ?? {});
}

function formatDefault(schema: JsonSchema): string | undefined {
  if (schema.default === undefined) return undefined;
  if (typeOf(schema) === 'array' && Array.isArray(schema.default)) {
    const itemType = typeOf(schema.items ?? {});
    return itemType === 'object' || itemType === 'array' ? JSON.stringify(schema.default, null, 2) : schema.default.join('\n');
  }
  return String(schema.default);
}

interface FieldsProps {
  schema: JsonSchema;
  errors: Array<FieldError & { message?: string }>;
  t: Translate;
  /** Values the user typed (after a refused submit); secrets are never sent back. */
  values?: Record<string, unknown>;
  path?: string;
}

function valueAt(values: Record<string, unknown> | undefined, path: string): unknown {
  return path.split('.').reduce<unknown>((current, key) => (current && typeof current === 'object' ? (current as Record<string, unknown>)[key] : undefined), values);
}

export function SchemaFields({ schema, errors, t, values, path = '' }: FieldsProps) {
  const required = new Set(schema.required ?? []);
  const entries = Object.entries(schema.properties ?? {});
  if (entries.length === 0 && !path) return <p className="muted">{t('form.noInputs')}</p>;
  return (
    <>
      {entries.map(([name, property]) => {
        const here = path ? `${path}.${name}` : name;
        const id = fieldId(here);
        const type = typeOf(property);
        const label = property.title ?? name;
        const fieldErrors = errors.filter((error) => error.path === here || error.path.startsWith(`${here}.`));
        const helpId = property.description ? `${id}-help` : undefined;
        const errorId = fieldErrors.length > 0 ? `${id}-error` : undefined;
        const describedBy = [helpId, errorId].filter(Boolean).join(' ') || undefined;
        const typed = valueAt(values, here);
        if (type === 'object') {
          return (
            <fieldset key={here} className="nested">
              <legend>{label}</legend>
              {property.description ? <p className="help">{property.description}</p> : null}
              <SchemaFields schema={property} errors={errors} t={t} values={values} path={here} />
            </fieldset>
          );
        }
        const common = { id, name: fieldName(here), 'aria-describedby': describedBy, 'aria-invalid': fieldErrors.length > 0 || undefined };
        let control: React.ReactNode;
        if (type === 'boolean') {
          control = <input type="checkbox" {...common} defaultChecked={typed === undefined ? property.default === true : typed === true} />;
        } else if (property.enum) {
          control = (
            <select {...common} defaultValue={typed !== undefined ? String(typed) : property.default !== undefined ? String(property.default) : ''} required={required.has(name)}>
              {required.has(name) && property.default === undefined ? <option value="">{t('form.choose')}</option> : null}
              {!required.has(name) ? <option value="">—</option> : null}
              {property.enum.map((option) => (
                <option key={String(option)} value={String(option)}>
                  {String(option)}
                </option>
              ))}
            </select>
          );
        } else if (type === 'array') {
          const itemType = typeOf(property.items ?? {});
          const shown = Array.isArray(typed) ? (itemType === 'object' ? JSON.stringify(typed, null, 2) : typed.join('\n')) : formatDefault(property);
          control = <textarea {...common} rows={4} defaultValue={shown ?? ''} placeholder={itemType === 'object' || itemType === 'array' ? '[ ]' : t('form.onePerLine')} />;
        } else {
          const inputType = isSecret(property) ? 'password' : type === 'number' || type === 'integer' ? 'number' : 'text';
          control = (
            <input
              {...common}
              type={inputType}
              step={type === 'integer' ? 1 : type === 'number' ? 'any' : undefined}
              autoComplete={isSecret(property) ? 'new-password' : 'off'}
              defaultValue={isSecret(property) ? undefined : typed !== undefined ? String(typed) : formatDefault(property)}
            />
          );
        }
        return (
          <div key={here} className={`field ${type === 'boolean' ? 'field-checkbox' : ''}`}>
            <label htmlFor={id}>
              {label}
              {required.has(name) ? <span className="required" aria-hidden="true"> *</span> : null}
              {required.has(name) ? <span className="sr-only"> ({t('form.required')})</span> : null}
            </label>
            {control}
            {property.description ? (
              <p className="help" id={helpId}>
                {property.description}
              </p>
            ) : null}
            {fieldErrors.length > 0 ? (
              <p className="field-error" id={errorId} role="alert">
                {fieldErrors.map((error) => errorMessage(t, error)).join(' ')}
              </p>
            ) : null}
          </div>
        );
      })}
    </>
  );
}
