// A form generated from a runbook's input JSON Schema, as users write them:
// refs, variants (oneOf/anyOf, type lists), merged allOf, nested objects,
// maps (additionalProperties), repeatable array items, enums of any JSON type,
// consts, nullable fields, formats, secrets, and a JSON editor, checked in
// place, for whatever it cannot draw. Fields stay uncontrolled, so what is
// typed before hydration counts; readInputs (schema-form-read.ts) turns them
// back into the instance, and the API validates it once more with Ajv.
import { useState } from 'react';
import type { MessageKey, Translate } from '../i18n/index.js';
import { dateTimeForField, encodeOption, fieldName, joinPath, markerName, type FieldError } from './schema-form-read.js';
import { classify, looksLike, rootContext, variantLabel, type JsonSchema, type SchemaContext, type SchemaNode } from './schema-node.js';

export { readInputs, withoutSecrets, type FieldError } from './schema-form-read.js';
export type { JsonSchema } from './schema-node.js';

type ShownError = FieldError & { message?: string };

export function errorMessage(t: Translate, error: ShownError): string {
  if (error.code === 'server') return error.message ?? t('form.invalid');
  const key = `form.error.${error.code}` as MessageKey;
  return t(key, error.params ?? {});
}

const fieldId = (path: string) => `field-${path.replace(/#/g, '_').replace(/[^A-Za-z0-9_-]/g, '-')}`;
const isSecret = (schema: JsonSchema) => schema.format === 'password' || schema['x-secret'] === true;
const isObject = (value: unknown): value is Record<string, unknown> => Boolean(value) && typeof value === 'object' && !Array.isArray(value);
const INPUT_TYPES: Record<string, string> = { date: 'date', 'date-time': 'datetime-local', email: 'email', uri: 'url', url: 'url', iri: 'url' };

interface Shared {
  errors: ShownError[];
  t: Translate;
}

interface FieldProps extends Shared {
  schema: JsonSchema;
  context: SchemaContext;
  path: string;
  /** The property name or item label, when the schema has no title. */
  label: string;
  required: boolean;
  /** The value to show first: what the user typed before a refusal, else the enclosing default's part. */
  initial: unknown;
}

function ownErrors(errors: ShownError[], path: string, subtree: boolean) {
  return errors.filter((error) => error.path === path || (subtree && error.path.startsWith(`${path}.`)));
}

function ErrorText({ id, errors, t, extra }: { id: string; errors: ShownError[]; t: Translate; extra?: string }) {
  const messages = [...errors.map((error) => errorMessage(t, error)), ...(extra ? [extra] : [])];
  if (messages.length === 0) return null;
  return (
    <p className="field-error" id={id} role="alert">
      {messages.join(' ')}
    </p>
  );
}

function LabelText({ text, required, t }: { text: string; required: boolean; t: Translate }) {
  return (
    <>
      {text}
      {required ? <span className="required" aria-hidden="true"> *</span> : null}
      {required ? <span className="sr-only"> ({t('form.required')})</span> : null}
    </>
  );
}

/** One subschema: decides what to draw, with a "null" switch in front when null is allowed. */
function Field(props: FieldProps) {
  const node = classify(props.schema, props.context);
  const initial = props.initial !== undefined ? props.initial : node.schema.default;
  if (node.nullable) return <NullableField {...props} node={node} initial={initial} />;
  return <NodeField {...props} node={node} initial={initial} />;
}

function NullableField(props: FieldProps & { node: SchemaNode }) {
  const { path, t } = props;
  const [isNull, setIsNull] = useState(props.initial === null);
  const id = fieldId(joinPath(path, '#null'));
  return (
    <div className="nullable">
      {isNull ? null : <NodeField {...props} initial={props.initial === null ? undefined : props.initial} />}
      <div className="field field-checkbox">
        <input type="checkbox" id={id} name={markerName(path, 'null')} defaultChecked={isNull} onChange={(event) => setIsNull(event.currentTarget.checked)} />
        <label htmlFor={id}>{t('form.null', { field: props.node.schema.title ?? props.label })}</label>
      </div>
    </div>
  );
}

function NodeField(props: FieldProps & { node: SchemaNode }) {
  const { node, path, t, errors, required, initial } = props;
  const title = node.schema.title ?? props.label;
  const description = typeof node.schema.description === 'string' ? node.schema.description : undefined;
  switch (node.kind) {
    case 'object':
      return (
        <fieldset className="nested" id={fieldId(path)}>
          <legend>
            <LabelText text={title} required={required} t={t} />
          </legend>
          {description ? <p className="help">{description}</p> : null}
          <ErrorText id={`${fieldId(path)}-error`} errors={ownErrors(errors, path, false)} t={t} />
          <ObjectFields node={node} path={path} initial={initial} errors={errors} t={t} />
        </fieldset>
      );
    case 'array':
      return <ArrayField {...props} node={node} title={title} description={description} />;
    case 'variants':
      return <VariantsField {...props} node={node} title={title} description={description} />;
    default:
      return <ScalarField {...props} node={node} title={title} description={description} />;
  }
}

/** The properties of an object, then its free keys (additionalProperties) as rows. */
function ObjectFields({ node, path, initial, errors, t }: Shared & { node: Extract<SchemaNode, { kind: 'object' }>; path: string; initial: unknown }) {
  const values = isObject(initial) ? initial : {};
  const declared = new Set(node.properties.map(([name]) => name));
  return (
    <>
      {node.properties.map(([name, property]) => (
        <Field key={name} schema={property} context={node.context} path={joinPath(path, name)} label={name} required={node.required.has(name)} initial={values[name]} errors={errors} t={t} />
      ))}
      {node.additional ? (
        <MapRows
          schema={node.additional}
          context={node.context}
          path={path}
          initial={Object.entries(values).filter(([key]) => !declared.has(key))}
          errors={errors}
          t={t}
        />
      ) : null}
    </>
  );
}

/** Rows that can be added and removed; each keeps a stable key so its typed values stay with it. */
function useRows<T>(initial: T[]) {
  const [rows, setRows] = useState(() => initial.map((value, index) => ({ key: index, value: value as T | undefined })));
  const [next, setNext] = useState(initial.length);
  return {
    rows,
    add: () => {
      setRows((current) => [...current, { key: next, value: undefined }]);
      setNext(next + 1);
    },
    remove: (key: number) => setRows((current) => current.filter((row) => row.key !== key)),
  };
}

function MapRows({ schema, context, path, initial, errors, t }: Shared & { schema: JsonSchema; context: SchemaContext; path: string; initial: Array<[string, unknown]> }) {
  const { rows, add, remove } = useRows(initial);
  return (
    <div className="map-rows">
      <input type="hidden" name={markerName(path, 'count')} value={rows.length} />
      {rows.map((row, index) => {
        const here = joinPath(path, index);
        const keyPath = joinPath(here, '#key');
        return (
          <div key={row.key} className="map-row nested">
            <div className="field">
              <label htmlFor={fieldId(keyPath)}>{t('form.mapKey')}</label>
              <input id={fieldId(keyPath)} name={markerName(here, 'key')} defaultValue={row.value?.[0] ?? ''} autoComplete="off" aria-invalid={ownErrors(errors, keyPath, false).length > 0 || undefined} />
              <ErrorText id={`${fieldId(keyPath)}-error`} errors={ownErrors(errors, keyPath, false)} t={t} />
            </div>
            <Field schema={schema} context={context} path={here} label={t('form.mapValue')} required initial={row.value?.[1]} errors={errors} t={t} />
            <button type="button" id={fieldId(joinPath(here, '#remove'))} onClick={() => remove(row.key)}>
              {t('form.removeEntry')}
            </button>
          </div>
        );
      })}
      <button type="button" id={fieldId(joinPath(path, '#add'))} onClick={add}>
        {t('form.addEntry')}
      </button>
    </div>
  );
}

interface DrawnProps<K extends SchemaNode['kind']> extends FieldProps {
  node: Extract<SchemaNode, { kind: K }>;
  title: string;
  description?: string;
}

function ArrayField({ node, path, errors, t, required, initial, title, description }: DrawnProps<'array'>) {
  const { rows, add, remove } = useRows(Array.isArray(initial) ? initial : []);
  return (
    <fieldset className="nested" id={fieldId(path)}>
      <legend>
        <LabelText text={title} required={required} t={t} />
      </legend>
      {description ? <p className="help">{description}</p> : null}
      <ErrorText id={`${fieldId(path)}-error`} errors={ownErrors(errors, path, false)} t={t} />
      <input type="hidden" name={markerName(path, 'count')} value={rows.length} />
      {rows.map((row, index) => (
        <div key={row.key} className="array-item">
          <Field schema={node.items} context={node.context} path={joinPath(path, index)} label={t('form.item', { number: index + 1 })} required initial={row.value} errors={errors} t={t} />
          <button type="button" id={fieldId(joinPath(joinPath(path, index), '#remove'))} onClick={() => remove(row.key)}>
            {t('form.removeItem', { number: index + 1 })}
          </button>
        </div>
      ))}
      <button type="button" id={fieldId(joinPath(path, '#add'))} onClick={add}>
        {t('form.addItem')}
      </button>
    </fieldset>
  );
}

function VariantsField({ node, path, errors, t, required, initial, title, description }: DrawnProps<'variants'>) {
  // The variant the shown value (a default, or what was typed) belongs to; it alone starts from that value.
  const [first] = useState(() => (initial === undefined ? 0 : Math.max(node.variants.findIndex((variant) => looksLike(classify(variant, node.context), initial)), 0)));
  const [chosen, setChosen] = useState(first);
  const id = fieldId(joinPath(path, '#variant'));
  const names = node.variants.map((variant, index) => {
    const label = variantLabel(variant, node.context, index);
    return typeof label === 'string' ? label : t('form.variant', { number: label.index + 1 });
  });
  return (
    <fieldset className="nested" id={fieldId(path)}>
      <legend>
        <LabelText text={title} required={required} t={t} />
      </legend>
      {description ? <p className="help">{description}</p> : null}
      <div className="field">
        <label htmlFor={id}>{t('form.variantChoice')}</label>
        <select id={id} name={markerName(path, 'variant')} value={chosen} onChange={(event) => setChosen(Number(event.currentTarget.value))}>
          {names.map((name, index) => (
            <option key={index} value={index}>
              {name}
            </option>
          ))}
        </select>
      </div>
      <ErrorText id={`${fieldId(path)}-error`} errors={ownErrors(errors, path, false)} t={t} />
      {/* A new key per variant: switching starts the variant's fields afresh. */}
      <Field key={chosen} schema={node.variants[chosen]!} context={node.context} path={path} label={names[chosen]!} required={required} initial={chosen === first ? initial : undefined} errors={errors} t={t} />
    </fieldset>
  );
}

/** What a JSON editor starts with: the value as JSON, `{}` for a required free-form object (never a blocker by itself), else nothing. */
function jsonText(initial: unknown, emptyObject: boolean): string {
  return initial !== undefined ? JSON.stringify(initial, null, 2) : emptyObject ? '{}' : '';
}

function ScalarField({ node, path, errors, t, required, initial, title, description }: DrawnProps<'string' | 'number' | 'integer' | 'boolean' | 'enum' | 'const' | 'null' | 'json'>) {
  const [jsonProblem, setJsonProblem] = useState<string | undefined>();
  const id = fieldId(path);
  const fieldErrors = ownErrors(errors, path, node.kind === 'json');
  const helpId = description ? `${id}-help` : undefined;
  const errorId = `${id}-error`;
  const invalid = fieldErrors.length > 0 || jsonProblem !== undefined;
  const describedBy = [helpId, invalid ? errorId : undefined].filter(Boolean).join(' ') || undefined;
  const common = { id, name: fieldName(path), 'aria-describedby': describedBy, 'aria-invalid': invalid || undefined };
  const { schema } = node;
  let control: React.ReactNode;
  switch (node.kind) {
    case 'boolean':
      control = required ? (
        <input type="checkbox" {...common} defaultChecked={initial === true} />
      ) : (
        // Optional: "not set" until the user picks, and then left out of the instance.
        <select {...common} defaultValue={typeof initial === 'boolean' ? String(initial) : ''}>
          <option value="">{t('form.unset')}</option>
          <option value="true">{t('form.true')}</option>
          <option value="false">{t('form.false')}</option>
        </select>
      );
      break;
    case 'enum':
      control = (
        <select {...common} defaultValue={initial !== undefined ? encodeOption(node.options, initial) : ''} required={required}>
          {required && initial === undefined ? <option value="">{t('form.choose')}</option> : null}
          {!required ? <option value="">—</option> : null}
          {node.options.map((option) => (
            <option key={encodeOption(node.options, option)} value={encodeOption(node.options, option)}>
              {typeof option === 'string' ? option : JSON.stringify(option)}
            </option>
          ))}
        </select>
      );
      break;
    case 'const':
    case 'null':
      control = (
        <output id={id} className="mono" aria-describedby={describedBy}>
          {JSON.stringify(node.kind === 'const' ? node.value : null)}
        </output>
      );
      break;
    case 'json': {
      const emptyObject = required && (schema.type === 'object' || (Array.isArray(schema.type) && schema.type.includes('object')));
      const shown = jsonText(initial, emptyObject);
      control = (
        <textarea
          {...common}
          rows={Math.min(12, Math.max(3, shown.split('\n').length + 1))}
          defaultValue={shown}
          spellCheck={false}
          className="mono"
          placeholder="JSON"
          onChange={(event) => {
            const text = event.currentTarget.value;
            try {
              if (text.trim() !== '') JSON.parse(text);
              setJsonProblem(undefined);
            } catch (error) {
              setJsonProblem(t('form.error.json', { message: (error as Error).message }));
            }
          }}
        />
      );
      break;
    }
    default: {
      const secret = isSecret(schema);
      const numeric = node.kind === 'number' || node.kind === 'integer';
      const inputType = secret ? 'password' : numeric ? 'number' : (INPUT_TYPES[schema.format ?? ''] ?? 'text');
      const shown = schema.format === 'date-time' ? dateTimeForField(initial) : initial !== undefined && typeof initial !== 'object' ? String(initial) : undefined;
      control = (
        <input
          {...common}
          type={inputType}
          step={node.kind === 'integer' ? 1 : node.kind === 'number' ? 'any' : inputType === 'datetime-local' ? 1 : undefined}
          autoComplete={secret ? 'new-password' : 'off'}
          defaultValue={secret ? undefined : shown}
        />
      );
    }
  }
  return (
    <div className={`field ${node.kind === 'boolean' && required ? 'field-checkbox' : ''}`}>
      <label htmlFor={id}>
        <LabelText text={title} required={required} t={t} />
        {schema.format === 'date-time' && node.kind === 'string' ? <span className="muted"> ({t('form.utc')})</span> : null}
        {node.kind === 'json' ? <span className="muted"> ({t('form.jsonHint')})</span> : null}
      </label>
      {control}
      {description ? (
        <p className="help" id={helpId}>
          {description}
        </p>
      ) : null}
      <ErrorText id={errorId} errors={fieldErrors} t={t} extra={fieldErrors.some((error) => error.code === 'json') ? undefined : jsonProblem} />
    </div>
  );
}

interface FieldsProps extends Shared {
  schema: JsonSchema;
  /** Values the user typed (after a refused submit); secrets are never sent back. */
  values?: Record<string, unknown>;
}

export function SchemaFields({ schema, errors, t, values }: FieldsProps) {
  const context = rootContext(schema);
  const node = classify(schema, context);
  if (node.kind !== 'object' || (node.properties.length === 0 && !node.additional)) return <p className="muted">{t('form.noInputs')}</p>;
  return <ObjectFields node={node} path="" initial={values ?? node.schema.default} errors={errors} t={t} />;
}
