import { useEffect } from 'react';
import { data, Form, Link, useRevalidator, useSearchParams } from 'react-router';
import type { Route } from './+types/runs.js';
import { formatDateTime, formatDuration, useLanguage, useT } from '../i18n/index.js';
import { requireApi } from '../lib/api.server.js';
import { useShell } from '../lib/shell-data.js';
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
}

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

export default function Runs({ loaderData }: Route.ComponentProps) {
  const t = useT();
  const language = useLanguage();
  const shell = useShell();
  const { runs, nextCursor } = loaderData;
  const [params] = useSearchParams();
  const revalidator = useRevalidator();
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
      {runs.length === 0 ? (
        <p className="muted">{t('runs.none')}</p>
      ) : (
        <table className="table">
          <TableHead columns={[t('runs.run'), t('runs.runbook'), t('runs.environment'), t('runs.status'), t('runs.startedAt'), t('runs.duration'), t('runs.startedBy')]} />
          <tbody>
            {runs.map((run) => (
              <tr key={run.id}>
                <td>
                  <Link to={`/runs/${encodeURIComponent(run.id)}`} className="mono">
                    {run.id}
                  </Link>
                </td>
                <td>{run.runbook}</td>
                <td>{run.environment}</td>
                <td>
                  <StatusBadge status={run.status} t={t} />
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
