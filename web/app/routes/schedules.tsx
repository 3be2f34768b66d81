// Schedules of the environments the user holds a role in: when each fires
// next, its state and note, pause/resume and run-now buttons, and the form
// that creates one (the runbook's inputs drawn from its JSON Schema).
import { data, Form, Link, redirect, useNavigation, useSearchParams } from 'react-router';
import type { Route } from './+types/schedules.js';
import { formatDateTime, useLanguage, useT, type Translate } from '../i18n/index.js';
import { ApiProblem, requireApi } from '../lib/api.server.js';
import { actOnSchedule } from '../lib/schedule-actions.server.js';
import { NextFires } from '../lib/next-fires.js';
import { ScheduleForm } from '../lib/schedule-form.js';
import { placeErrors, readScheduleForm, STATE_LABELS, whenSummary, type PlacedErrors, type ScheduleView } from '../lib/schedules.js';
import { readInputs, withoutSecrets, type JsonSchema } from '../lib/schema-form.js';
import { holdsAnywhere, rolesIn, useShell } from '../lib/shell-data.js';
import { TableHead } from '../lib/table-head.js';

interface RunbookSummary {
  name: string;
  title: string;
  valid: boolean;
}

interface RunbookDetails {
  name: string;
  title: string;
  environments: string[];
  inputs: JsonSchema;
}

const NEXT_FIRES_LISTED = 3;

export async function loader({ request }: Route.LoaderArgs) {
  const api = await requireApi(request);
  const url = new URL(request.url);
  const [schedules, catalog] = await Promise.all([api.get<ScheduleView[]>('/schedules'), api.get<RunbookSummary[]>('/runbooks')]);
  const runbooks = catalog.filter((entry) => entry.valid).map(({ name, title }) => ({ name, title }));
  const chosen = runbooks.find((entry) => entry.name === url.searchParams.get('runbook')) ?? runbooks[0];
  const runbook = chosen ? await api.get<RunbookDetails>(`/runbooks/${encodeURIComponent(chosen.name)}`) : undefined;
  return data({ schedules, runbooks, runbook }, { headers: api.headers });
}

type CreateAnswer = { intent: 'create'; errors: PlacedErrors; message: string | undefined; inputValues: Record<string, unknown> };

export async function action({ request }: Route.ActionArgs) {
  const api = await requireApi(request);
  const form = await request.formData();
  if (form.get('intent') !== 'create') return data(await actOnSchedule(api, form), { headers: api.headers });
  const body = readScheduleForm(form);
  let runbook: RunbookDetails;
  try {
    runbook = await api.get<RunbookDetails>(`/runbooks/${encodeURIComponent(body.runbook)}`);
  } catch (error) {
    if (!(error instanceof ApiProblem)) throw error;
    const answer: CreateAnswer = {
      intent: 'create',
      errors: { fields: { runbook: [error.problem.detail ?? String(error.problem.status)] }, inputs: [], general: [] },
      message: undefined,
      inputValues: {},
    };
    return data(answer, { status: error.problem.status, headers: api.headers });
  }
  const { value: inputs, errors: inputErrors } = readInputs(runbook.inputs, form);
  const inputValues = withoutSecrets(runbook.inputs, inputs);
  if (inputErrors.length > 0) {
    const answer: CreateAnswer = { intent: 'create', errors: { fields: {}, inputs: inputErrors, general: [] }, message: undefined, inputValues };
    return data(answer, { status: 400, headers: api.headers });
  }
  try {
    const created = await api.send<ScheduleView>('POST', '/schedules', { ...body, inputs });
    return redirect(`/schedules/${encodeURIComponent(created.id)}`, { headers: api.headers });
  } catch (error) {
    if (!(error instanceof ApiProblem)) throw error;
    const answer: CreateAnswer = { intent: 'create', errors: placeErrors(error.problem.errors ?? []), message: error.problem.detail ?? error.problem.title, inputValues };
    return data(answer, { status: error.problem.status, headers: api.headers });
  }
}

function RowActions({ schedule, t }: { schedule: ScheduleView; t: Translate }) {
  const navigation = useNavigation();
  const busy = navigation.state !== 'idle' && navigation.formData?.get('id') === schedule.id;
  return (
    <Form method="post" className="actions">
      <input type="hidden" name="id" value={schedule.id} />
      {schedule.state === 'paused' ? (
        <button type="submit" name="intent" value="unpause" disabled={busy}>
          {t('schedules.unpause')}
        </button>
      ) : (
        <button type="submit" name="intent" value="pause" disabled={busy || schedule.state === 'missing'}>
          {t('schedules.pause')}
        </button>
      )}
      <button type="submit" name="intent" value="trigger" disabled={busy || schedule.state === 'missing'}>
        {t('schedules.trigger')}
      </button>
    </Form>
  );
}

export default function Schedules({ loaderData, actionData: answer }: Route.ComponentProps) {
  const t = useT();
  const language = useLanguage();
  const shell = useShell();
  const [, setSearchParams] = useSearchParams();
  const { schedules, runbooks, runbook } = loaderData;
  const mayChange = (environment: string) => rolesIn(shell.me, environment).some((role) => role === 'admin' || role === 'operator');
  const created = answer && 'intent' in answer && answer.intent === 'create' ? (answer as CreateAnswer) : undefined;
  const acted = answer && !created && 'ok' in answer ? answer : undefined;
  const environments = (runbook?.environments ?? []).filter(mayChange);
  return (
    <section className="schedules-page">
      <h1>{t('schedules.title')}</h1>
      <p className="muted">{t('schedules.intro')}</p>
      {acted && !acted.ok ? (
        <p className="error" role="alert">
          {[acted.message, ...acted.errors].join(' ')}
        </p>
      ) : acted?.intent === 'trigger' ? (
        <p className="notice" role="status">
          {t('schedules.triggered')}
        </p>
      ) : null}
      {schedules.length === 0 ? (
        <p className="muted">{t('schedules.none')}</p>
      ) : (
        <table className="table schedules-table">
          <TableHead
            columns={[
              t('schedules.name'),
              t('schedules.runbook'),
              t('schedules.environment'),
              t('schedules.when'),
              t('schedules.state'),
              t('schedules.nextFires'),
              t('schedules.lastFire'),
              t('schedules.actions'),
            ]}
          />
          <tbody>
            {schedules.map((schedule) => (
              <tr key={schedule.id} data-schedule={schedule.name}>
                <td>
                  <Link to={`/schedules/${encodeURIComponent(schedule.id)}`} className="mono">
                    {schedule.name}
                  </Link>
                  {schedule.description ? <div className="muted small">{schedule.description}</div> : null}
                </td>
                <td>{schedule.runbook}</td>
                <td>{schedule.environment}</td>
                <td className="mono small">{whenSummary(schedule.definition, t)}</td>
                <td>
                  <span className={`tag schedule-state state-${schedule.state}`}>{t(STATE_LABELS[schedule.state])}</span>
                  {schedule.state === 'paused' && schedule.note ? <div className="muted small schedule-note">{schedule.note}</div> : null}
                </td>
                <td className="next-fires-cell">
                  <NextFires times={schedule.nextFires} limit={NEXT_FIRES_LISTED} paused={schedule.state === 'paused'} t={t} />
                </td>
                <td>
                  {schedule.fires[0] ? (
                    <>
                      {formatDateTime(language, schedule.fires[0].scheduledAt)}
                      {schedule.fires[0].runId ? (
                        <>
                          {' '}
                          <Link to={`/runs/${encodeURIComponent(schedule.fires[0].runId)}`} aria-label={t('runs.run')}>
                            →
                          </Link>
                        </>
                      ) : null}
                    </>
                  ) : (
                    '—'
                  )}
                </td>
                <td>{mayChange(schedule.environment) ? <RowActions schedule={schedule} t={t} /> : null}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>{t('schedules.new')}</h2>
      {!holdsAnywhere(shell.me, ['admin', 'operator']) ? (
        <p className="notice">{t('schedules.noRole')}</p>
      ) : !runbook ? (
        <p className="muted">{t('schedules.noRunbooks')}</p>
      ) : (
        <>
          {environments.length === 0 ? <p className="notice">{t('schedules.noRole')}</p> : null}
          <ScheduleForm
            t={t}
            runbooks={runbooks}
            runbook={runbook}
            environments={environments}
            defaultEnvironment={environments.includes(shell.environment) ? shell.environment : environments[0]}
            errors={created?.errors}
            message={created?.message}
            inputValues={created?.inputValues}
            onRunbookChange={(name) => setSearchParams({ runbook: name }, { replace: true, preventScrollReset: true })}
          />
        </>
      )}
    </section>
  );
}
