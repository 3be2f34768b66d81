import { useEffect } from 'react';
import { data, Form, Link, useActionData, useNavigation, useRevalidator, useSearchParams } from 'react-router';
import type { Route } from './+types/runs.js';
import { formatDateTime, formatDuration, useLanguage, useT } from '../i18n/index.js';
import { ApiProblem, requireApi } from '../lib/api.server.js';
import { rolesIn, useShell } from '../lib/shell-data.js';
import { StatusBadge } from '../lib/status.js';
import { TableHead } from '../lib/table-head.js';

interface RunSummary {
  id: string;
  runbook?: string;
  environment?: string;
  startedBy?: string;
  status: string;
  startedAt: string;
  closedAt?: string;
  /** Held out of retention purges. */
  held?: boolean;
}

interface BulkAnswer {
  id: string;
  action: string;
  selected: number;
  results: Array<{ runId: string; ok: boolean; newRunId?: string; error?: string }>;
}

const BULK_ACTIONS = ['cancel', 'rerun'] as const;

const FILTERS = ['status', 'runbook', 'environment', 'startedBy', 'cursor'] as const;

export async function loader({ request }: Route.LoaderArgs) {
  const api = await requireApi(request);
  const url = new URL(request.url);
  const query = new URLSearchParams({ limit: '25' });
  for (const key of FILTERS) {
    const value = url.searchParams.get(key);
    if (value) query.set(key, value);
  }
  for (const [field, key] of [['from', 'startedAfter'], ['to', 'startedBefore']] as const) {
    const value = url.searchParams.get(field);
    if (value && !Number.isNaN(Date.parse(value))) query.set(key, new Date(value).toISOString());
  }
  const { data: runs, headers } = await api.getWithHeaders<RunSummary[]>(`/runs?${query}`);
  return data({ runs, nextCursor: headers.get('x-next-cursor') }, { headers: api.headers });
}

/** The selected runs cancelled or re-run as one bulk action (POST /runs/bulk with their ids). */
export async function action({ request }: Route.ActionArgs) {
  const api = await requireApi(request);
  const form = await request.formData();
  const intent = String(form.get('intent') ?? '');
  const runIds = form
    .getAll('runId')
    .map(String)
    .filter((id) => id !== '');
  if (!(BULK_ACTIONS as readonly string[]).includes(intent)) return data({ answer: undefined, error: `unknown action "${intent}"` }, { status: 400, headers: api.headers });
  if (runIds.length === 0) return data({ answer: undefined, error: 'none' }, { status: 400, headers: api.headers });
  try {
    const answer = await api.send<BulkAnswer>('POST', '/runs/bulk', { action: intent, runIds });
    return data({ answer, error: undefined as string | undefined }, { headers: api.headers });
  } catch (error) {
    if (!(error instanceof ApiProblem)) throw error;
    return data({ answer: undefined, error: error.problem.detail ?? error.problem.title ?? String(error.problem.status) }, { status: error.problem.status, headers: api.headers });
  }
}

export default function Runs({ loaderData }: Route.ComponentProps) {
  const t = useT();
  const language = useLanguage();
  const shell = useShell();
  const { runs, nextCursor } = loaderData;
  const [params] = useSearchParams();
  const revalidator = useRevalidator();
  const outcome = useActionData<typeof action>();
  const navigation = useNavigation();
  const mayAct = (environment: string | undefined) => rolesIn(shell.me, environment ?? '').some((role) => role === 'admin' || role === 'operator');
  const anyActionable = runs.some((run) => mayAct(run.environment));
  const anyRunning = runs.some((run) => run.status === 'RUNNING');
  // Live status: refresh while something is running.
  useEffect(() => {
    if (!anyRunning) return;
    const timer = setInterval(() => {
      if (revalidator.state === 'idle' && document.visibilityState === 'visible') void revalidator.revalidate();
    }, 3_000);
    return () => clearInterval(timer);
  }, [anyRunning, revalidator]);
  const next = new URLSearchParams(params);
  if (nextCursor) next.set('cursor', nextCursor);
  return (
    <section>
      <h1>{t('runs.title')}</h1>
      <Form method="get" className="filters" role="search">
        <label htmlFor="filter-status">{t('runs.status')}</label>
        <select id="filter-status" name="status" defaultValue={params.get('status') ?? ''}>
          <option value="">{t('runs.any')}</option>
          {(['running', 'completed', 'failed', 'cancelled', 'terminated'] as const).map((status) => (
            <option key={status} value={status}>
              {t(`runs.filterStatus.${status}`)}
            </option>
          ))}
        </select>
        <label htmlFor="filter-runbook">{t('runs.runbook')}</label>
        <input id="filter-runbook" name="runbook" defaultValue={params.get('runbook') ?? ''} />
        <label htmlFor="filter-environment">{t('runs.environment')}</label>
        <select id="filter-environment" name="environment" defaultValue={params.get('environment') ?? ''}>
          <option value="">{t('runs.any')}</option>
          {shell.environments.map((environment) => (
            <option key={environment} value={environment}>
              {environment}
            </option>
          ))}
        </select>
        <label htmlFor="filter-started-by">{t('runs.startedBy')}</label>
        <input id="filter-started-by" name="startedBy" defaultValue={params.get('startedBy') ?? ''} />
        <label htmlFor="filter-from">{t('runs.from')}</label>
        <input id="filter-from" name="from" type="datetime-local" defaultValue={params.get('from') ?? ''} />
        <label htmlFor="filter-to">{t('runs.to')}</label>
        <input id="filter-to" name="to" type="datetime-local" defaultValue={params.get('to') ?? ''} />
        <button type="submit">{t('runs.filter')}</button>
      </Form>
      {anyActionable ? (
        <Form method="post" id="bulk-runs" className="bulk-actions" aria-label={t('runs.bulk.label')}>
          {BULK_ACTIONS.map((intent) => (
            <button key={intent} type="submit" name="intent" value={intent} disabled={navigation.state === 'submitting'}>
              {t(`runs.bulk.${intent}`)}
            </button>
          ))}
        </Form>
      ) : null}
      {outcome?.error ? (
        <p className="error" role="alert">
          {outcome.error === 'none' ? t('runs.bulk.noneSelected') : outcome.error}
        </p>
      ) : null}
      {outcome?.answer ? (
        <div className="notice" role="status">
          <p>{t(`runs.bulk.done.${outcome.answer.action === 'cancel' ? 'cancel' : 'rerun'}`, { ok: outcome.answer.results.filter((result) => result.ok).length, count: outcome.answer.selected })}</p>
          <ul>
            {outcome.answer.results
              .filter((result) => !result.ok || result.newRunId)
              .map((result) => (
                <li key={result.runId}>
                  <span className="mono">{result.runId}</span>
                  {result.newRunId ? (
                    <>
                      {' → '}
                      <Link to={`/runs/${encodeURIComponent(result.newRunId)}`} className="mono">
                        {result.newRunId}
                      </Link>
                    </>
                  ) : (
                    `: ${result.error ?? ''}`
                  )}
                </li>
              ))}
          </ul>
        </div>
      ) : null}
      {runs.length === 0 ? (
        <p className="muted">{t('runs.none')}</p>
      ) : (
        <table className="table">
          <TableHead
            columns={[
              ...(anyActionable ? [t('runs.bulk.select')] : []),
              t('runs.run'),
              t('runs.runbook'),
              t('runs.environment'),
              t('runs.status'),
              t('runs.startedAt'),
              t('runs.duration'),
              t('runs.startedBy'),
            ]}
          />
          <tbody>
            {runs.map((run) => (
              <tr key={run.id}>
                {anyActionable ? (
                  <td>{mayAct(run.environment) ? <input type="checkbox" name="runId" value={run.id} form="bulk-runs" aria-label={t('runs.bulk.selectRun', { id: run.id })} /> : null}</td>
                ) : null}
                <td>
                  <Link to={`/runs/${encodeURIComponent(run.id)}`} className="mono">
                    {run.id}
                  </Link>
                </td>
                <td>{run.runbook}</td>
                <td>{run.environment}</td>
                <td>
                  <StatusBadge status={run.status} t={t} />
                  {run.held ? (
                    <span className="status status-held" data-testid="held-badge">
                      {t('run.held')}
                    </span>
                  ) : null}
                </td>
                <td>{formatDateTime(language, run.startedAt)}</td>
                <td suppressHydrationWarning>{formatDuration((run.closedAt ? Date.parse(run.closedAt) : Date.now()) - Date.parse(run.startedAt))}</td>
                <td>{run.startedBy}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav className="pager" aria-label={t('runs.pages')}>
        {params.get('cursor') ? <Link to="?">{t('runs.firstPage')}</Link> : null}
        {nextCursor ? <Link to={`?${next}`}>{t('runs.nextPage')}</Link> : null}
      </nav>
    </section>
  );
}
