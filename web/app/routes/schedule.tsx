// One schedule: its definition, state and note, next fires, recent fires and
// the runs it started; pause (with a note), resume, run now, backfill a
// period, delete.
import { useEffect } from 'react';
import { data, Form, Link, redirect, useNavigation, useRevalidator } from 'react-router';
import type { Route } from './+types/schedule.js';
import { formatDateTime, useLanguage, useT, type Translate } from '../i18n/index.js';
import { requireApi } from '../lib/api.server.js';
import { NextFires } from '../lib/next-fires.js';
import { actOnSchedule } from '../lib/schedule-actions.server.js';
import { OUTCOME_LABELS, OVERLAP_LABELS, STATE_LABELS, whenSummary, type ScheduleView } from '../lib/schedules.js';
import { rolesIn, useShell } from '../lib/shell-data.js';
import { StatusBadge } from '../lib/status.js';
import { TableHead } from '../lib/table-head.js';

interface RunSummary {
  id: string;
  status: string;
  startedAt: string;
  closedAt?: string;
}

const RUNS_SHOWN = 10;
const REFRESH_MS = 5_000;

export async function loader({ request, params }: Route.LoaderArgs) {
  const api = await requireApi(request);
  const id = encodeURIComponent(params.id ?? '');
  const [schedule, runs] = await Promise.all([api.get<ScheduleView>(`/schedules/${id}`), api.get<RunSummary[]>(`/runs?schedule=${id}&limit=${RUNS_SHOWN}`)]);
  return data({ schedule, runs }, { headers: api.headers });
}

export async function action({ request, params }: Route.ActionArgs) {
  const api = await requireApi(request);
  const form = await request.formData();
  form.set('id', params.id ?? '');
  const result = await actOnSchedule(api, form);
  if (result.ok && result.intent === 'delete') return redirect('/schedules', { headers: api.headers });
  return data(result, { status: result.ok ? 200 : result.status, headers: api.headers });
}

function Definition({ schedule, t }: { schedule: ScheduleView; t: Translate }) {
  const language = useLanguage();
  const { spec, policies } = schedule.definition;
  const orDefault = (value: string | undefined, fallback: string) => value ?? `${fallback} (${t('schedules.defaultValue')})`;
  return (
    <dl className="facts schedule-definition">
      <dt>{t('schedules.runbook')}</dt>
      <dd>
        <Link to={`/runbooks/${encodeURIComponent(schedule.runbook)}`}>{schedule.runbook}</Link>
      </dd>
      <dt>{t('schedules.environment')}</dt>
      <dd>{schedule.environment}</dd>
      <dt>{t('schedules.owner')}</dt>
      <dd>{schedule.owner}</dd>
      <dt>{t('schedules.when')}</dt>
      <dd className="mono">{whenSummary(schedule.definition, t)}</dd>
      <dt>{t('schedules.timezone')}</dt>
      <dd>{orDefault(spec.timezone, 'UTC')}</dd>
      {spec.jitter ? (
        <>
          <dt>{t('schedules.jitter')}</dt>
          <dd className="mono">{spec.jitter}</dd>
        </>
      ) : null}
      {spec.startAt || spec.endAt ? (
        <>
          <dt>{t('schedules.window')}</dt>
          <dd>
            {formatDateTime(language, spec.startAt)} – {formatDateTime(language, spec.endAt)}
          </dd>
        </>
      ) : null}
      <dt>{t('schedules.overlap')}</dt>
      <dd>{t(OVERLAP_LABELS[policies.overlap ?? 'skip'])}</dd>
      <dt>{t('schedules.catchupWindow')}</dt>
      <dd className="mono">{orDefault(policies.catchupWindow, '1m')}</dd>
      <dt>{t('schedules.pauseOnFailure')}</dt>
      <dd>{policies.pauseOnFailure ? t('schedules.yes') : t('schedules.no')}</dd>
      <dt>{t('schedules.created')}</dt>
      <dd>{formatDateTime(language, schedule.createdAt)}</dd>
    </dl>
  );
}

function Controls({ schedule, t }: { schedule: ScheduleView; t: Translate }) {
  const navigation = useNavigation();
  const busy = navigation.state === 'submitting';
  const missing = schedule.state === 'missing';
  const paused = schedule.state === 'paused';
  return (
    <div className="schedule-controls">
      <Form method="post" className="inline-form pause-form" key={schedule.state}>
        <label htmlFor="pause-note">{t('schedules.pauseNote')}</label>
        <input id="pause-note" name="note" maxLength={500} />
        <button type="submit" name="intent" value={paused ? 'unpause' : 'pause'} disabled={busy || missing}>
          {paused ? t('schedules.unpause') : t('schedules.pause')}
        </button>
      </Form>
      <Form method="post" className="inline-form">
        <button type="submit" name="intent" value="trigger" className="primary" disabled={busy || missing}>
          {t('schedules.trigger')}
        </button>
      </Form>
      <Form method="post" className="inline-form backfill-form">
        <label htmlFor="backfill-start">{t('schedules.backfillStart')}</label>
        <input id="backfill-start" name="start" type="datetime-local" required />
        <label htmlFor="backfill-end">{t('schedules.backfillEnd')}</label>
        <input id="backfill-end" name="end" type="datetime-local" required />
        <button type="submit" name="intent" value="backfill" disabled={busy || missing}>
          {t('schedules.backfill')}
        </button>
      </Form>
      <p className="help">{t('schedules.backfillHelp')}</p>
      <Form
        method="post"
        className="inline-form"
        onSubmit={(event) => {
          if (!window.confirm(t('schedules.deleteConfirm'))) event.preventDefault();
        }}
      >
        <button type="submit" name="intent" value="delete" className="danger" disabled={busy}>
          {t('schedules.delete')}
        </button>
      </Form>
    </div>
  );
}

export default function SchedulePage({ loaderData, actionData: answer }: Route.ComponentProps) {
  const t = useT();
  const language = useLanguage();
  const shell = useShell();
  const revalidator = useRevalidator();
  const { schedule, runs } = loaderData;
  const mayChange = rolesIn(shell.me, schedule.environment).some((role) => role === 'admin' || role === 'operator');
  // New fires and runs appear while the page is open.
  const active = schedule.state === 'active';
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => {
      if (revalidator.state === 'idle' && document.visibilityState === 'visible') void revalidator.revalidate();
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [active, revalidator]);
  return (
    <section className="schedule-page">
      <p>
        <Link to="/schedules">← {t('schedules.back')}</Link>
      </p>
      <h1 className="mono">{schedule.name}</h1>
      {schedule.description ? <p>{schedule.description}</p> : null}
      <p className="schedule-status">
        <span className={`tag schedule-state state-${schedule.state}`}>{t(STATE_LABELS[schedule.state])}</span> {schedule.note ? <span className="schedule-note">{schedule.note}</span> : null}
      </p>
      {schedule.state === 'missing' ? <p className="notice">{t('schedules.missingHelp')}</p> : null}
      {answer && !answer.ok ? (
        <p className="error" role="alert">
          {[answer.message, ...answer.errors].join(' ')}
        </p>
      ) : answer?.intent === 'trigger' ? (
        <p className="notice" role="status">
          {t('schedules.triggered')}
        </p>
      ) : answer?.intent === 'backfill' ? (
        <p className="notice" role="status">
          {t('schedules.backfilled')}
        </p>
      ) : null}
      <div className="two-columns">
        <div>
          <h2>{t('schedules.definition')}</h2>
          <Definition schedule={schedule} t={t} />
        </div>
        <div>
          <h2>{t('schedules.nextFires')}</h2>
          <div className="next-fires-cell">
            {schedule.state === 'paused' ? <p className="muted small">{t('schedules.pausedFires')}</p> : null}
            <NextFires times={schedule.nextFires} paused={schedule.state === 'paused'} t={t} />
          </div>
          {mayChange ? <Controls schedule={schedule} t={t} /> : <p className="muted">{t('schedules.mayNotChange', { environment: schedule.environment })}</p>}
        </div>
      </div>
      <h2>{t('schedules.fires')}</h2>
      {schedule.fires.length === 0 ? (
        <p className="muted">{t('schedules.noFires')}</p>
      ) : (
        <table className="table fires-table">
          <TableHead columns={[t('schedules.scheduledAt'), t('schedules.firedAt'), t('schedules.outcome'), t('runs.run'), t('schedules.reason')]} />
          <tbody>
            {schedule.fires.map((fire) => (
              <tr key={`${fire.scheduledAt}-${fire.firedAt}`}>
                <td>{formatDateTime(language, fire.scheduledAt)}</td>
                <td>{formatDateTime(language, fire.firedAt)}</td>
                <td>
                  <span className={`tag${fire.outcome === 'refused' ? ' danger' : ''}`}>{OUTCOME_LABELS[fire.outcome] ? t(OUTCOME_LABELS[fire.outcome]!) : fire.outcome}</span>
                </td>
                <td>
                  {fire.runId ? (
                    <Link to={`/runs/${encodeURIComponent(fire.runId)}`} className="mono">
                      {fire.runId}
                    </Link>
                  ) : (
                    '—'
                  )}
                </td>
                <td>{fire.reason ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>{t('schedules.runs')}</h2>
      {runs.length === 0 ? (
        <p className="muted">{t('schedules.noRuns')}</p>
      ) : (
        <table className="table">
          <TableHead columns={[t('runs.run'), t('runs.status'), t('runs.startedAt')]} />
          <tbody>
            {runs.map((run) => (
              <tr key={run.id}>
                <td>
                  <Link to={`/runs/${encodeURIComponent(run.id)}`} className="mono">
                    {run.id}
                  </Link>
                </td>
                <td>
                  <StatusBadge status={run.status} t={t} />
                </td>
                <td>{formatDateTime(language, run.startedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
