// Pieces every field of the runbook form shares: ids, props, labels, error texts.
import type { MessageKey, Translate } from '../i18n/index.js';
import type { FieldError } from './schema-form-read.js';
import type { JsonSchema, SchemaContext, SchemaNode } from './schema-node.js';

export type ShownError = FieldError & { message?: string };

export function errorMessage(t: Translate, error: ShownError): string {
  if (error.code === 'server') return error.message ?? t('form.invalid');
  const key = `form.error.${error.code}` as MessageKey;
  return t(key, error.params ?? {});
}

/** Form markers (`#key`, `#variant`…) become `_key`, `_variant`: ids a CSS selector can name. */
export const fieldId = (path: string) => `field-${path.replace(/#/g, '_').replace(/[^A-Za-z0-9_-]/g, '-')}`;

export interface Shared {
  errors: ShownError[];
  t: Translate;
}

export interface FieldProps extends Shared {
  schema: JsonSchema;
  context: SchemaContext;
  path: string;
  /** The property name or item label, when the schema has no title. */
  label: string;
  required: boolean;
  /** An item, a map value or a variant: its container already says whether it is required. */
  unmarked?: boolean;
  /** The value to show first: what the user typed before a refusal, else the enclosing default's part. */
  initial: unknown;
}

export function ownErrors(errors: ShownError[], path: string, subtree: boolean) {
  return errors.filter((error) => error.path === path || (subtree && error.path.startsWith(`${path}.`)));
}

export function ErrorText({ id, errors, t, extra }: { id: string; errors: ShownError[]; t: Translate; extra?: string }) {
  const messages = [...errors.map((error) => errorMessage(t, error)), ...(extra ? [extra] : [])];
  if (messages.length === 0) return null;
  return (
    <p className="field-error" id={id} role="alert">
      {messages.join(' ')}
    </p>
  );
}

export function LabelText({ text, required, t }: { text: string; required: boolean; t: Translate }) {
  return (
    <>
      {text}
      {required ? <span className="required" aria-hidden="true"> *</span> : null}
      {required ? <span className="sr-only"> ({t('form.required')})</span> : null}
    </>
  );
}

export interface DrawnProps<K extends SchemaNode['kind']> extends FieldProps {
  node: Extract<SchemaNode, { kind: K }>;
  title: string;
  description?: string;
}

