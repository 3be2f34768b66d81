// The buttons of a schedule (pause, resume, run now, backfill, delete), shared
// by the list and the schedule's own page: the form names the schedule and the
// intent; the API checks the user's right and answers the problem.
import { ApiProblem, type ApiSession } from './api.server.js';
import { dateTimeFromField } from './schema-form-read.js';

export const SCHEDULE_INTENTS = ['pause', 'unpause', 'trigger', 'backfill', 'delete'] as const;
export type ScheduleIntent = (typeof SCHEDULE_INTENTS)[number];

export type ScheduleActionResult = { intent: ScheduleIntent; id: string; ok: true } | { intent: ScheduleIntent | undefined; id: string; ok: false; status: number; message: string; errors: string[] };

export function isScheduleIntent(value: unknown): value is ScheduleIntent {
  return typeof value === 'string' && (SCHEDULE_INTENTS as readonly string[]).includes(value);
}

export async function actOnSchedule(api: ApiSession, form: FormData): Promise<ScheduleActionResult> {
  const id = String(form.get('id') ?? '');
  const intent = form.get('intent');
  if (!isScheduleIntent(intent)) return { intent: undefined, id, ok: false, status: 400, message: 'unknown action', errors: [] };
  const path = `/schedules/${encodeURIComponent(id)}`;
  const note = String(form.get('note') ?? '').trim();
  try {
    if (intent === 'delete') await api.send('DELETE', path);
    else if (intent === 'backfill') {
      const [start, end] = ['start', 'end'].map((name) => dateTimeFromField(String(form.get(name) ?? '').trim()));
      await api.send('POST', `${path}/backfill`, { start, end });
    } else if (intent === 'trigger') await api.send('POST', `${path}/trigger`, {});
    else await api.send('POST', `${path}/${intent}`, note ? { note } : {});
    return { intent, id, ok: true };
  } catch (error) {
    if (!(error instanceof ApiProblem)) throw error;
    const { problem } = error;
    return {
      intent,
      id,
      ok: false,
      status: problem.status,
      message: problem.detail ?? problem.title ?? `API answered ${problem.status}`,
      errors: (problem.errors ?? []).map((entry) => `${entry.path}: ${entry.message}`),
    };
  }
}
