// What the Schedules pages share: the API's view of a schedule, the words for
// its definition, and the create form read back into the API's body, with the
// API's refusals placed next to the fields they are about.
import type { MessageKey, Translate } from '../i18n/index.js';
import type { OverlapPolicyName } from '../../../schedules/schedule-definition.js';
import type { ScheduleView } from '../../../schedules/schedule-service.js';
import { dateTimeFromField, type FieldError } from './schema-form-read.js';

export type { ScheduleView };

export const OVERLAP_LABELS: Record<OverlapPolicyName, MessageKey> = {
  skip: 'schedules.overlap.skip',
  'buffer-one': 'schedules.overlap.buffer-one',
  'buffer-all': 'schedules.overlap.buffer-all',
  'cancel-other': 'schedules.overlap.cancel-other',
  'terminate-other': 'schedules.overlap.terminate-other',
  'allow-all': 'schedules.overlap.allow-all',
};

export const STATE_LABELS: Record<ScheduleView['state'], MessageKey> = { active: 'schedules.state.active', paused: 'schedules.state.paused', missing: 'schedules.state.missing' };

export const OUTCOME_LABELS: Record<string, MessageKey> = { started: 'schedules.outcome.started', refused: 'schedules.outcome.refused', skipped: 'schedules.outcome.skipped' };

/** Suggestions for the time zone field; any IANA name is accepted. */
export const COMMON_TIME_ZONES = [
  'UTC',
  'America/Sao_Paulo',
  'America/Manaus',
  'America/Recife',
  'America/New_York',
  'America/Chicago',
  'America/Los_Angeles',
  'Europe/Lisbon',
  'Europe/London',
  'Europe/Berlin',
  'Europe/Paris',
  'Asia/Tokyo',
  'Asia/Singapore',
  'Australia/Sydney',
];

/** One line saying when a schedule fires, e.g. "every 1h (offset 15m) · in America/Sao_Paulo". */
export function whenSummary(definition: ScheduleView['definition'], t: Translate): string {
  const { spec } = definition;
  const parts: string[] = [];
  if (spec.cron?.length) parts.push(t('schedules.summary.cron', { expressions: spec.cron.join(', ') }));
  for (const interval of spec.intervals ?? [])
    parts.push(interval.offset ? t('schedules.summary.everyOffset', { every: interval.every, offset: interval.offset }) : t('schedules.summary.every', { every: interval.every }));
  if (spec.calendars?.length) parts.push(t('schedules.summary.calendars', { count: spec.calendars.length }));
  // A time zone moves cron and calendar times only; intervals count from the epoch.
  if (spec.timezone && spec.timezone !== 'UTC' && (spec.cron?.length || spec.calendars?.length)) parts.push(t('schedules.summary.timezone', { timezone: spec.timezone }));
  return parts.join(' · ');
}

/** The create form's own fields (the runbook's inputs are read by readInputs). */
export type ScheduleField =
  'name' | 'description' | 'runbook' | 'environment' | 'when' | 'cron' | 'every' | 'offset' | 'timezone' | 'jitter' | 'startAt' | 'endAt' | 'overlap' | 'catchupWindow' | 'note';

export interface CreateScheduleBody {
  name: string;
  description?: string;
  runbook: string;
  environment: string;
  spec: ScheduleView['definition']['spec'];
  policies: ScheduleView['definition']['policies'];
  paused?: boolean;
  note?: string;
}

/** The API's body from the form; empty optional fields are left out, so the API's defaults apply. */
export function readScheduleForm(form: FormData): CreateScheduleBody {
  const text = (name: string) => {
    const raw = form.get(name);
    return typeof raw === 'string' ? raw.trim() : '';
  };
  const optional = <K extends string>(key: K, value: string) => (value ? ({ [key]: value } as Record<K, string>) : {});
  const spec: CreateScheduleBody['spec'] =
    text('when') === 'interval'
      ? { intervals: [{ every: text('every'), ...optional('offset', text('offset')) }] }
      : {
          cron: text('cron')
            .split('\n')
            .map((line) => line.trim())
            .filter(Boolean),
        };
  Object.assign(spec, optional('timezone', text('timezone')), optional('jitter', text('jitter')));
  if (text('startAt')) spec.startAt = dateTimeFromField(text('startAt'));
  if (text('endAt')) spec.endAt = dateTimeFromField(text('endAt'));
  const overlap = text('overlap');
  const policies: CreateScheduleBody['policies'] = {
    ...(overlap in OVERLAP_LABELS ? { overlap: overlap as OverlapPolicyName } : {}),
    ...optional('catchupWindow', text('catchupWindow')),
    ...(form.get('pauseOnFailure') === 'on' ? { pauseOnFailure: true } : {}),
  };
  return {
    name: text('name'),
    ...optional('description', text('description')),
    runbook: text('runbook'),
    environment: text('environment'),
    spec,
    policies,
    ...(form.get('paused') === 'on' ? { paused: true } : {}),
    ...optional('note', text('note')),
  };
}

/** The API's paths, dotted (`spec.intervals.0.every`), and the field each is about; what matches none is shown above the form. */
const FIELD_OF_PATH: Array<[RegExp, ScheduleField]> = [
  [/^spec$/, 'when'],
  [/^spec\.cron\b/, 'cron'],
  [/^spec\.intervals(\.\d+)?\.offset$/, 'offset'],
  [/^spec\.intervals\b/, 'every'],
  [/^spec\.timezone$/, 'timezone'],
  [/^spec\.jitter$/, 'jitter'],
  [/^spec\.startAt$/, 'startAt'],
  [/^spec\.endAt$/, 'endAt'],
  [/^policies\.overlap$/, 'overlap'],
  [/^policies\.catchupWindow$/, 'catchupWindow'],
  [/^name$/, 'name'],
  [/^description$/, 'description'],
  [/^runbook$/, 'runbook'],
  [/^environment$/, 'environment'],
  [/^note$/, 'note'],
];

export interface PlacedErrors {
  /** Messages next to the schedule's own fields. */
  fields: Partial<Record<ScheduleField, string[]>>;
  /** Errors of the runbook's inputs, for the generated form. */
  inputs: Array<FieldError & { message?: string }>;
  /** What names no field: shown above the form. */
  general: string[];
}

/** Places the API's `errors` ("body.spec.timezone", "spec.intervals[0].every", "inputs.label"…) next to their fields. */
export function placeErrors(errors: Array<{ path: string; message: string }>): PlacedErrors {
  const placed: PlacedErrors = { fields: {}, inputs: [], general: [] };
  for (const error of errors) {
    const path = error.path.replace(/^body\.?/, '').replace(/\[(\d+)\]/g, '.$1');
    if (path.startsWith('inputs.') || path === 'inputs') {
      placed.inputs.push({ path: path.replace(/^inputs\.?/, ''), code: 'server', message: error.message });
      continue;
    }
    const field = FIELD_OF_PATH.find(([pattern]) => pattern.test(path))?.[1];
    if (field) (placed.fields[field] ??= []).push(error.message);
    else placed.general.push(path ? `${path}: ${error.message}` : error.message);
  }
  return placed;
}
