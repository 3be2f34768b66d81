// A form generated from a runbook's input JSON Schema, as users write them:
// refs, variants (oneOf/anyOf, type lists), merged allOf, nested objects,
// maps (additionalProperties), repeatable array items, enums of any JSON type,
// consts, nullable fields, formats, secrets, and a JSON editor, checked in
// place, for whatever it cannot draw. Fields stay uncontrolled, so what is
// typed before hydration counts; readInputs (schema-form-read.ts) turns them
// back into the instance, and the API validates it once more with Ajv.
import { useState, type FormEvent } from 'react';
import { joinPath, markerName, readInputs, type FieldError } from './schema-form-read.js';
import { ErrorText, fieldId, LabelText, ownErrors, type DrawnProps, type FieldProps, type Shared } from './schema-form-parts.js';
import { classify, looksLike, rootContext, variantLabel, type JsonSchema, type SchemaContext, type SchemaNode } from './schema-node.js';
import { ScalarField } from './schema-scalar-field.js';

export { readInputs, withoutSecrets, type FieldError } from './schema-form-read.js';
export type { JsonSchema } from './schema-node.js';
export { errorMessage } from './schema-form-parts.js';

/**
 * A form's submit handler that checks the inputs against their schema in the
 * browser first: with mistakes, the submit stops, they are shown, and keyboard
 * users are taken to the first field to fix.
 */
export function checkInputsOnSubmit(schema: JsonSchema, showErrors: (errors: FieldError[] | undefined) => void) {
  return (event: FormEvent<HTMLFormElement>) => {
    const formElement = event.currentTarget;
    const found = readInputs(schema, new FormData(formElement)).errors;
    showErrors(found.length > 0 ? found : undefined);
    if (found.length > 0) {
      event.preventDefault();
      requestAnimationFrame(() => formElement.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
    }
  };
}

const isObject = (value: unknown): value is Record<string, unknown> => Boolean(value) && typeof value === 'object' && !Array.isArray(value);

/** One subschema: decides what to draw, with a "null" switch beside it when null is allowed. */
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
  const { node, path, t, errors, required, unmarked, initial } = props;
  const title = node.schema.title ?? props.label;
  const description = typeof node.schema.description === 'string' ? node.schema.description : undefined;
  switch (node.kind) {
    case 'object':
      return (
        <fieldset className="nested">
          <GroupHeading title={title} description={description} required={required && !unmarked} t={t} />
          <ErrorText id={`${fieldId(path)}-group-error`} errors={ownErrors(errors, path, false)} t={t} />
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
/** A group's legend and help text: an object, a list or a choice of variants. */
function GroupHeading({ title, description, required, t }: { title: string; description: string | undefined; required: boolean; t: Shared['t'] }) {
  return (
    <>
      <legend>
        <LabelText text={title} required={required} t={t} />
      </legend>
      {description ? <p className="help">{description}</p> : null}
    </>
  );
}

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
  const [state, setState] = useState(() => ({ rows: initial.map((value, index) => ({ key: index, value: value as T | undefined })), next: initial.length }));
  return {
    rows: state.rows,
    add: () => setState(({ rows, next }) => ({ rows: [...rows, { key: next, value: undefined }], next: next + 1 })),
    remove: (key: number) => setState(({ rows, next }) => ({ rows: rows.filter((row) => row.key !== key), next })),
  };
}

function MapRows({ schema, context, path, initial, errors, t }: Shared & { schema: JsonSchema; context: SchemaContext; path: string; initial: Array<[string, unknown]> }) {
  const { rows, add, remove } = useRows(initial);
  return (
    <>
      <input type="hidden" name={markerName(path, 'count')} value={rows.length} />
      {rows.map((row, index) => {
        const here = joinPath(path, index);
        const keyPath = joinPath(here, '#key');
        return (
          <fieldset key={row.key} className="nested">
            <legend>{t('form.entry', { number: index + 1 })}</legend>
            <div className="field">
              <label htmlFor={fieldId(keyPath)}>{t('form.mapKey')}</label>
              <input id={fieldId(keyPath)} name={markerName(here, 'key')} defaultValue={row.value?.[0] ?? ''} autoComplete="off" aria-invalid={ownErrors(errors, keyPath, false).length > 0 || undefined} />
              <ErrorText id={`${fieldId(keyPath)}-error`} errors={ownErrors(errors, keyPath, false)} t={t} />
            </div>
            <Field schema={schema} context={context} path={here} label={t('form.mapValue')} required unmarked initial={row.value?.[1]} errors={errors} t={t} />
            <button type="button" id={fieldId(joinPath(here, '#remove'))} onClick={() => remove(row.key)}>
              {t('form.removeEntry')}
            </button>
          </fieldset>
        );
      })}
      <button type="button" id={fieldId(joinPath(path, '#add'))} onClick={add}>
        {t('form.addEntry')}
      </button>
    </>
  );
}

function ArrayField({ node, path, errors, t, required, unmarked, initial, title, description }: DrawnProps<'array'>) {
  const { rows, add, remove } = useRows(Array.isArray(initial) ? initial : []);
  return (
    <fieldset className="nested">
      <GroupHeading title={title} description={description} required={required && !unmarked} t={t} />
      <ErrorText id={`${fieldId(path)}-list-error`} errors={ownErrors(errors, path, false)} t={t} />
      <input type="hidden" name={markerName(path, 'count')} value={rows.length} />
      {rows.map((row, index) => (
        <div key={row.key} className="field array-item">
          <Field schema={node.items} context={node.context} path={joinPath(path, index)} label={t('form.item', { number: index + 1 })} required unmarked initial={row.value} errors={errors} t={t} />
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

function VariantsField({ node, path, errors, t, required, unmarked, initial, title, description }: DrawnProps<'variants'>) {
  // The variant the shown value (a default, or what was typed) belongs to; it alone starts from that value.
  const [first] = useState(() => (initial === undefined ? 0 : Math.max(node.variants.findIndex((variant) => looksLike(classify(variant, node.context), initial)), 0)));
  const [chosen, setChosen] = useState(first);
  const id = fieldId(joinPath(path, '#variant'));
  const labels = node.variants.map((variant, index) => {
    const label = variantLabel(variant, node.context, index);
    return typeof label === 'string' ? label : t('form.variant', { number: label.index + 1 });
  });
  // Two variants named alike ("object", "object") are told apart by their place.
  const names = labels.map((label, index) => (labels.indexOf(label) !== labels.lastIndexOf(label) ? `${label} (${index + 1})` : label));
  return (
    <fieldset className="nested">
      <GroupHeading title={title} description={description} required={required && !unmarked} t={t} />
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
      {/* A new key per variant: switching starts the variant's fields afresh. */}
      <Field key={chosen} schema={node.variants[chosen]!} context={node.context} path={path} label={names[chosen]!} required={required} unmarked initial={chosen === first ? initial : undefined} errors={errors} t={t} />
    </fieldset>
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
