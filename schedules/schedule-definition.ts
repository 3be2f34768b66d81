// When a schedule fires, as its owner writes it (API body, CLI flags, web
// form), and its translation into a Temporal Schedule's spec and policies.
// Temporal checks cron expressions and calendars itself; what can be checked
// here (durations, time zones, dates, ranges) is, with a message saying what
// to write instead.
import { ScheduleOverlapPolicy, type CalendarSpec, type IntervalSpec, type ScheduleSpec } from '@temporalio/client';
import { Type, type Static } from '@sinclair/typebox';
import { DURATION_HINT, parseDuration } from '../manifest/duration.js';
import { JarvisProblem, type ManifestError } from '../manifest/errors.js';

export const OVERLAP_POLICIES = ['skip', 'buffer-one', 'buffer-all', 'cancel-other', 'terminate-other', 'allow-all'] as const;
export type OverlapPolicyName = (typeof OVERLAP_POLICIES)[number];

const TEMPORAL_OVERLAP: Record<OverlapPolicyName, ScheduleOverlapPolicy> = {
  skip: ScheduleOverlapPolicy.SKIP,
  'buffer-one': ScheduleOverlapPolicy.BUFFER_ONE,
  'buffer-all': ScheduleOverlapPolicy.BUFFER_ALL,
  'cancel-other': ScheduleOverlapPolicy.CANCEL_OTHER,
  'terminate-other': ScheduleOverlapPolicy.TERMINATE_OTHER,
  'allow-all': ScheduleOverlapPolicy.ALLOW_ALL,
};

export function temporalOverlap(policy: OverlapPolicyName): ScheduleOverlapPolicy {
  return TEMPORAL_OVERLAP[policy];
}

const Duration = Type.String({ minLength: 1, maxLength: 40, description: `A duration (${DURATION_HINT})` });
const RangeValue = Type.Union([
  Type.Integer({ minimum: 0, maximum: 9999 }),
  Type.String({ minLength: 1, maxLength: 20, description: 'A month or weekday name (JANUARY, MONDAY) or *' }),
  Type.Object(
    {
      start: Type.Union([Type.Integer({ minimum: 0 }), Type.String({ maxLength: 20 })]),
      end: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.String({ maxLength: 20 })])),
      step: Type.Optional(Type.Integer({ minimum: 1 })),
    },
    { additionalProperties: false },
  ),
]);
const CalendarField = Type.Union([RangeValue, Type.Array(RangeValue, { minItems: 1, maxItems: 60 })]);

export const ScheduleSpecBody = Type.Object(
  {
    cron: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 20, description: 'Cron expressions (minute hour day-of-month month day-of-week), e.g. "0 2 * * *"' })),
    intervals: Type.Optional(Type.Array(Type.Object({ every: Duration, offset: Type.Optional(Duration) }, { additionalProperties: false }), { maxItems: 20 })),
    calendars: Type.Optional(
      Type.Array(
        Type.Object(
          {
            second: Type.Optional(CalendarField),
            minute: Type.Optional(CalendarField),
            hour: Type.Optional(CalendarField),
            dayOfMonth: Type.Optional(CalendarField),
            month: Type.Optional(CalendarField),
            year: Type.Optional(CalendarField),
            dayOfWeek: Type.Optional(CalendarField),
            comment: Type.Optional(Type.String({ maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        { maxItems: 20 },
      ),
    ),
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone of cron and calendar times, e.g. America/Sao_Paulo (default UTC)' })),
    jitter: Type.Optional(Duration),
    startAt: Type.Optional(Type.String({ maxLength: 40, description: 'No fire before this time (ISO 8601)' })),
    endAt: Type.Optional(Type.String({ maxLength: 40, description: 'No fire after this time (ISO 8601)' })),
  },
  { additionalProperties: false },
);
export type ScheduleSpecDefinition = Static<typeof ScheduleSpecBody>;

export const SchedulePoliciesBody = Type.Object(
  {
    overlap: Type.Optional(
      Type.Union(
        OVERLAP_POLICIES.map((name) => Type.Literal(name)),
        { description: 'What a fire does while the previous run still runs (default skip)' },
      ),
    ),
    catchupWindow: Type.Optional(Type.String({ minLength: 1, maxLength: 40, description: `How late a missed fire may still start after an outage (default 1m; ${DURATION_HINT})` })),
    pauseOnFailure: Type.Optional(Type.Boolean({ description: 'Pause the schedule when a run it started fails' })),
  },
  { additionalProperties: false },
);
export type SchedulePolicies = Static<typeof SchedulePoliciesBody>;

export interface ScheduleDefinition {
  spec: ScheduleSpecDefinition;
  policies: SchedulePolicies;
}

const MINIMUM_CATCHUP_MS = 10_000;

function durationMs(text: string, path: string, errors: ManifestError[]): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) errors.push({ path, message: `"${text}" is not a duration: ${DURATION_HINT}` });
  return ms ?? 0;
}

function instant(text: string, path: string, errors: ManifestError[]): Date {
  const time = new Date(text);
  if (Number.isNaN(time.getTime())) errors.push({ path, message: `"${text}" is not a date and time (use ISO 8601, e.g. 2026-12-24T02:00:00Z)` });
  return time;
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** The Temporal spec and policies of a definition; every mistake at once, as a 400. */
export function temporalScheduleOf(definition: ScheduleDefinition): { spec: ScheduleSpec; overlap: ScheduleOverlapPolicy; catchupWindowMs: number; pauseOnFailure: boolean } {
  const errors: ManifestError[] = [];
  const { spec, policies } = definition;
  const cronExpressions = spec.cron ?? [];
  const intervals: IntervalSpec[] = (spec.intervals ?? []).map((interval, index) => {
    const every = durationMs(interval.every, `spec.intervals[${index}].every`, errors);
    const offset = interval.offset === undefined ? undefined : durationMs(interval.offset, `spec.intervals[${index}].offset`, errors);
    if (offset !== undefined && offset >= every)
      errors.push({ path: `spec.intervals[${index}].offset`, message: `the offset (${interval.offset}) must be shorter than the interval (${interval.every})` });
    if (every > 0 && every < 1000) errors.push({ path: `spec.intervals[${index}].every`, message: 'an interval must be at least 1s' });
    return { every, ...(offset !== undefined ? { offset } : {}) };
  });
  const calendars = (spec.calendars ?? []) as CalendarSpec[];
  if (cronExpressions.length + intervals.length + calendars.length === 0) {
    errors.push({ path: 'spec', message: 'a schedule needs at least one of cron, intervals or calendars' });
  }
  for (const [index, expression] of cronExpressions.entries()) {
    // Temporal reads "CRON_TZ=" inside an expression; a time zone belongs in spec.timezone, which is shown and checked.
    if (/TZ=/i.test(expression)) errors.push({ path: `spec.cron[${index}]`, message: 'set the time zone in spec.timezone, not inside the cron expression' });
  }
  if (spec.timezone !== undefined && !isTimeZone(spec.timezone)) {
    errors.push({ path: 'spec.timezone', message: `"${spec.timezone}" is not a time zone (use an IANA name such as UTC, Europe/Lisbon or America/Sao_Paulo)` });
  }
  const jitter = spec.jitter === undefined ? undefined : durationMs(spec.jitter, 'spec.jitter', errors);
  const startAt = spec.startAt === undefined ? undefined : instant(spec.startAt, 'spec.startAt', errors);
  const endAt = spec.endAt === undefined ? undefined : instant(spec.endAt, 'spec.endAt', errors);
  if (startAt && endAt && startAt.getTime() >= endAt.getTime()) errors.push({ path: 'spec.endAt', message: 'the end must come after the start' });
  const catchupWindowMs = policies.catchupWindow === undefined ? 60_000 : durationMs(policies.catchupWindow, 'policies.catchupWindow', errors);
  if (catchupWindowMs > 0 && catchupWindowMs < MINIMUM_CATCHUP_MS) errors.push({ path: 'policies.catchupWindow', message: 'the catch-up window must be at least 10s (Temporal refuses less)' });
  if (errors.length > 0) throw new JarvisProblem('the schedule is not valid', 'invalid', errors);
  return {
    spec: {
      ...(cronExpressions.length > 0 ? { cronExpressions } : {}),
      ...(intervals.length > 0 ? { intervals } : {}),
      ...(calendars.length > 0 ? { calendars } : {}),
      ...(spec.timezone ? { timezone: spec.timezone } : {}),
      ...(jitter ? { jitter } : {}),
      ...(startAt ? { startAt } : {}),
      ...(endAt ? { endAt } : {}),
    },
    overlap: temporalOverlap(policies.overlap ?? 'skip'),
    catchupWindowMs,
    pauseOnFailure: policies.pauseOnFailure ?? false,
  };
}
