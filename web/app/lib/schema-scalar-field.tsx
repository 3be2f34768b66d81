// One drawn value: text, number, date and other formats, secrets, enums of
// any JSON type, a three-way optional boolean, a const, and the JSON editor
// that is checked as the user types.
import { useState } from 'react';
import { dateTimeForField, encodeOption, fieldName } from './schema-form-read.js';
import { ErrorText, fieldId, LabelText, ownErrors, type DrawnProps } from './schema-form-parts.js';
import type { JsonSchema } from './schema-node.js';

const isSecret = (schema: JsonSchema) => schema.format === 'password' || schema['x-secret'] === true;
const INPUT_TYPES: Record<string, string> = { date: 'date', 'date-time': 'datetime-local', email: 'email', uri: 'url', url: 'url', iri: 'url' };

/** What a JSON editor starts with: the value as JSON, `{}` for a required free-form object (never a blocker by itself), else nothing. */
function jsonText(initial: unknown, emptyObject: boolean): string {
  return initial !== undefined ? JSON.stringify(initial, null, 2) : emptyObject ? '{}' : '';
}

export function ScalarField({ node, path, errors, t, required, unmarked, initial, title, description }: DrawnProps<'string' | 'number' | 'integer' | 'boolean' | 'enum' | 'const' | 'null' | 'json'>) {
  // What the JSON editor's text says now: undefined until edited, null once it parses, else the parse error.
  const [jsonProblem, setJsonProblem] = useState<string | null | undefined>();
  const id = fieldId(path);
  // A parse error from the last submit is replaced by what the text says since.
  const fieldErrors = ownErrors(errors, path, node.kind === 'json').filter((error) => error.code !== 'json' || jsonProblem === undefined);
  const helpId = description ? `${id}-help` : undefined;
  const errorId = `${id}-error`;
  const invalid = fieldErrors.length > 0 || typeof jsonProblem === 'string';
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
              setJsonProblem(null);
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
      // A document (contentMediaType such as text/yaml: a Compose file, a config) is typed over several lines.
      const multiline = node.kind === 'string' && !secret && (typeof (schema as { contentMediaType?: unknown }).contentMediaType === 'string' || (schema as { 'x-jarvis-widget'?: unknown })['x-jarvis-widget'] === 'textarea');
      if (multiline) {
        control = <textarea {...common} rows={12} spellCheck={false} className="mono" defaultValue={initial !== undefined && typeof initial !== 'object' ? String(initial) : undefined} />;
        break;
      }
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
        <LabelText text={title} required={required && !unmarked} t={t} />
        {schema.format === 'date-time' && node.kind === 'string' ? <span className="muted"> ({t('form.utc')})</span> : null}
        {node.kind === 'json' ? <span className="muted"> ({t('form.jsonHint')})</span> : null}
      </label>
      {control}
      {description ? (
        <p className="help" id={helpId}>
          {description}
        </p>
      ) : null}
      <ErrorText id={errorId} errors={fieldErrors} t={t} extra={jsonProblem ?? undefined} />
    </div>
  );
}

