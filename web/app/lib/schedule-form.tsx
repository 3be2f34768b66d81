// The form that creates a schedule: what to run and where, when it fires
// (cron times or an interval, in a time zone), what happens on overlap, and
// the runbook's inputs drawn from its JSON Schema. Fields stay uncontrolled;
// readScheduleForm and readInputs read them back in the route's action.
import { useState, type ReactNode } from 'react';
import { Form, useNavigation } from 'react-router';
import type { Translate } from '../i18n/index.js';
import { checkInputsOnSubmit, SchemaFields, type FieldError, type JsonSchema } from './schema-form.js';
import { COMMON_TIME_ZONES, OVERLAP_LABELS, type PlacedErrors, type ScheduleField } from './schedules.js';

export interface RunbookChoice {
  name: string;
  title: string;
}

export interface ChosenRunbook {
  name: string;
  inputs: JsonSchema;
}

interface ControlProps {
  id: string;
  name: ScheduleField;
  'aria-invalid'?: true;
  'aria-describedby'?: string;
}

/** A label, the control, its help and the API's messages about it. */
function Field({ name, label, help, errors, children }: { name: ScheduleField; label: string; help?: string; errors: PlacedErrors['fields']; children: (props: ControlProps) => ReactNode }) {
  const id = `schedule-${name}`;
  const messages = errors[name] ?? [];
  const described = [help ? `${id}-help` : '', messages.length > 0 ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({ id, name, ...(messages.length > 0 ? { 'aria-invalid': true } : {}), ...(described ? { 'aria-describedby': described } : {}) })}
      {help ? (
        <p className="help" id={`${id}-help`}>
          {help}
        </p>
      ) : null}
      {messages.length > 0 ? (
        <p className="field-error" id={`${id}-error`} role="alert">
          {messages.join(' ')}
        </p>
      ) : null}
    </div>
  );
}

export function ScheduleForm(props: {
  t: Translate;
  runbooks: RunbookChoice[];
  runbook: ChosenRunbook;
  environments: string[];
  defaultEnvironment: string | undefined;
  errors: PlacedErrors | undefined;
  message: string | undefined;
  inputValues: Record<string, unknown> | undefined;
  onRunbookChange: (name: string) => void;
}) {
  const { t, runbook, errors } = props;
  const fields = errors?.fields ?? {};
  const navigation = useNavigation();
  const submitting = navigation.state === 'submitting' && navigation.formData?.get('intent') === 'create';
  const [when, setWhen] = useState<'cron' | 'interval'>('cron');
  const [clientInputErrors, setClientInputErrors] = useState<FieldError[] | undefined>();
  const inputErrors = clientInputErrors ?? errors?.inputs ?? [];
  const general = clientInputErrors ? [] : [...(props.message ? [props.message] : []), ...(errors?.general ?? [])];
  const anyFieldError = Object.keys(fields).length > 0 || inputErrors.length > 0;
  return (
    <Form
      method="post"
      noValidate
      className="schema-form schedule-form"
      // The inputs are checked here as the runbook's own form checks them; the API checks the rest.
      onSubmit={checkInputsOnSubmit(runbook.inputs, setClientInputErrors)}
    >
      <input type="hidden" name="intent" value="create" />
      {general.length > 0 ? (
        <div className="error" role="alert">
          {general.map((text, index) => (
            <p key={index}>{text}</p>
          ))}
        </div>
      ) : anyFieldError ? (
        <p className="error form-problems" role="alert">
          {t('schedules.fixErrors')}
        </p>
      ) : null}
      <Field name="name" label={t('schedules.name')} help={t('schedules.nameHelp')} errors={fields}>
        {(control) => <input {...control} required pattern="[a-z0-9][a-z0-9\-]*" autoComplete="off" />}
      </Field>
      <Field name="description" label={t('schedules.description')} errors={fields}>
        {(control) => <input {...control} />}
      </Field>
      <Field name="runbook" label={t('schedules.runbook')} errors={fields}>
        {(control) => (
          <select {...control} defaultValue={runbook.name} onChange={(event) => props.onRunbookChange(event.currentTarget.value)}>
            {props.runbooks.map((choice) => (
              <option key={choice.name} value={choice.name}>
                {choice.title} ({choice.name})
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field name="environment" label={t('schedules.environment')} errors={fields}>
        {(control) => (
          <select {...control} key={runbook.name} defaultValue={props.defaultEnvironment}>
            {props.environments.map((environment) => (
              <option key={environment} value={environment}>
                {environment}
              </option>
            ))}
          </select>
        )}
      </Field>
      <fieldset className="nested" aria-describedby={fields.when ? 'schedule-when-error' : undefined}>
        <legend>{t('schedules.whenKind')}</legend>
        {(['cron', 'interval'] as const).map((kind) => (
          <div className="field field-checkbox" key={kind}>
            <input type="radio" id={`schedule-when-${kind}`} name="when" value={kind} checked={when === kind} onChange={() => setWhen(kind)} />
            <label htmlFor={`schedule-when-${kind}`}>{t(`schedules.kind.${kind}`)}</label>
          </div>
        ))}
        {fields.when ? (
          <p className="field-error" id="schedule-when-error" role="alert">
            {fields.when.join(' ')}
          </p>
        ) : null}
        {when === 'cron' ? (
          <Field name="cron" label={t('schedules.cron')} help={t('schedules.cronHelp')} errors={fields}>
            {(control) => <textarea {...control} rows={2} className="mono" spellCheck={false} />}
          </Field>
        ) : (
          <>
            <Field name="every" label={t('schedules.every')} help={t('schedules.everyHelp')} errors={fields}>
              {(control) => <input {...control} className="mono" autoComplete="off" />}
            </Field>
            <Field name="offset" label={t('schedules.offset')} help={t('schedules.offsetHelp')} errors={fields}>
              {(control) => <input {...control} className="mono" autoComplete="off" />}
            </Field>
          </>
        )}
        <Field name="timezone" label={t('schedules.timezone')} help={t('schedules.timezoneHelp')} errors={fields}>
          {(control) => <input {...control} defaultValue="UTC" list="schedule-time-zones" autoComplete="off" />}
        </Field>
        <datalist id="schedule-time-zones">
          {COMMON_TIME_ZONES.map((zone) => (
            <option key={zone} value={zone} />
          ))}
        </datalist>
        <Field name="jitter" label={t('schedules.jitter')} help={t('schedules.jitterHelp')} errors={fields}>
          {(control) => <input {...control} className="mono" autoComplete="off" />}
        </Field>
        <Field name="startAt" label={t('schedules.startAt')} errors={fields}>
          {(control) => <input {...control} type="datetime-local" />}
        </Field>
        <Field name="endAt" label={t('schedules.endAt')} errors={fields}>
          {(control) => <input {...control} type="datetime-local" />}
        </Field>
      </fieldset>
      <Field name="overlap" label={t('schedules.overlap')} errors={fields}>
        {(control) => (
          <select {...control} defaultValue="skip">
            {Object.entries(OVERLAP_LABELS).map(([policy, label]) => (
              <option key={policy} value={policy}>
                {t(label)}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field name="catchupWindow" label={t('schedules.catchupWindow')} help={t('schedules.catchupWindowHelp')} errors={fields}>
        {(control) => <input {...control} className="mono" autoComplete="off" />}
      </Field>
      <div className="field field-checkbox">
        <input type="checkbox" id="schedule-pauseOnFailure" name="pauseOnFailure" />
        <label htmlFor="schedule-pauseOnFailure">{t('schedules.pauseOnFailure')}</label>
      </div>
      <div className="field field-checkbox">
        <input type="checkbox" id="schedule-paused" name="paused" />
        <label htmlFor="schedule-paused">{t('schedules.startPaused')}</label>
      </div>
      <Field name="note" label={t('schedules.note')} help={t('schedules.noteHelp')} errors={fields}>
        {(control) => <input {...control} maxLength={500} />}
      </Field>
      <fieldset className="nested">
        <legend>{t('schedules.inputs')}</legend>
        <SchemaFields key={runbook.name} schema={runbook.inputs} errors={inputErrors} t={t} values={props.inputValues} />
      </fieldset>
      <button type="submit" className="primary" disabled={submitting}>
        {submitting ? t('schedules.creating') : t('schedules.create')}
      </button>
    </Form>
  );
}
