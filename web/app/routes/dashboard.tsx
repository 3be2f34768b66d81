import { data, Link } from 'react-router';
import type { Route } from './+types/dashboard.js';
import { formatDateTime, formatDuration, useLanguage, useT } from '../i18n/index.js';
import { requireApi } from '../lib/api.server.js';
import { selectedEnvironment } from '../lib/session.server.js';
import { useShell } from '../lib/shell-data.js';

interface Statistics {
  running: number;
  failedLast24h: number;
  recentFailures: Array<{ runId: string; runbook: string; environment: string; endedAt: string; error: string | null }>;
  daily: Array<{ day: string; succeeded: number; failed: number; cancelled: number; p95Ms: number | null }>;
}

interface ContainerHealth {
  endpoints: number;
  inError: number;
  unreachable: number;
}

/** Containers not running or unhealthy across the environment's Docker endpoints. */
async function containerHealth(api: Awaited<ReturnType<typeof requireApi>>, environment: string): Promise<ContainerHealth> {
  const endpoints = (await api.get<Array<{ name: string; type: string }>>(`/connections?environment=${encodeURIComponent(environment)}`)).filter((connection) => connection.type === 'docker').slice(0, 10);
  const answers = await Promise.allSettled(
    endpoints.map((endpoint) => api.get<Array<{ containers: Array<{ state: string; health?: string }> }>>(`/containers?${new URLSearchParams({ environment, endpoint: endpoint.name })}`)),
  );
  let inError = 0;
  for (const answer of answers) {
    if (answer.status === 'fulfilled') for (const group of answer.value) inError += group.containers.filter((container) => container.state !== 'running' || container.health === 'unhealthy').length;
  }
  return { endpoints: endpoints.length, inError, unreachable: answers.filter((answer) => answer.status === 'rejected').length };
}

/** Nodes of the environment by status; none when there is no inventory yet. */
async function nodeCounts(api: Awaited<ReturnType<typeof requireApi>>, environment: string) {
  const nodes = await api.get<Array<{ status: 'online' | 'pending' | 'unreachable' }>>(`/nodes?${new URLSearchParams({ environment })}`);
  const count = (status: string) => nodes.filter((node) => node.status === status).length;
  return { total: nodes.length, online: count('online'), pending: count('pending'), unreachable: count('unreachable') };
}

export async function loader({ request }: Route.LoaderArgs) {
  const api = await requireApi(request);
  const { environment } = await selectedEnvironment(request, (await api.get<{ grants: Array<{ environment: string }> }>('/auth/me')).grants);
  const [stats, containers, nodes] = await Promise.all([
    api.get<Statistics>('/runs/stats?days=14'),
    environment ? containerHealth(api, environment).catch(() => undefined) : undefined,
    environment ? nodeCounts(api, environment).catch(() => undefined) : undefined,
  ]);
  return data({ stats, containers, nodes }, { headers: api.headers });
}

function RunsChart({ daily }: { daily: Statistics['daily'] }) {
  const t = useT();
  const width = 560;
  const height = 160;
  const max = Math.max(1, ...daily.map((day) => day.succeeded + day.failed + day.cancelled));
  const maxP95 = Math.max(1, ...daily.map((day) => day.p95Ms ?? 0));
  const barWidth = daily.length > 0 ? width / daily.length : width;
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${width} ${height + 20}`} role="img" aria-label={t('dashboard.chartLabel')}>
        {daily.map((day, index) => {
          const x = index * barWidth + 4;
          let y = height;
          return (
            <g key={day.day}>
              {(['succeeded', 'failed', 'cancelled'] as const).map((outcome) => {
                const h = (day[outcome] / max) * (height - 10);
                y -= h;
                return <rect key={outcome} className={`bar-${outcome}`} x={x} y={y} width={Math.max(barWidth - 8, 2)} height={h} />;
              })}
              <text x={x} y={height + 14} className="axis">
                {day.day.slice(5)}
              </text>
            </g>
          );
        })}
        <polyline
          className="p95-line"
          fill="none"
          points={daily.map((day, index) => `${index * barWidth + barWidth / 2},${height - ((day.p95Ms ?? 0) / maxP95) * (height - 10)}`).join(' ')}
        />
      </svg>
      <figcaption>
        <span className="legend bar-succeeded">{t('status.succeeded')}</span> <span className="legend bar-failed">{t('status.failed')}</span>{' '}
        <span className="legend bar-cancelled">{t('status.cancelled')}</span> <span className="legend p95">{t('dashboard.p95', { value: formatDuration(maxP95) })}</span>
      </figcaption>
    </figure>
  );
}

/** A figure that links to where it comes from, with an optional note under it. */
function Widget({ to, value, label, testId, children }: { to: string; value: number; label: string; testId?: string; children?: React.ReactNode }) {
  return (
    <Link to={to} className="widget">
      <span className="widget-value" data-testid={testId}>
        {value}
      </span>
      <span className="widget-label">{label}</span>
      {children}
    </Link>
  );
}

/** A figure that has nothing to count yet: how to get there instead. */
function HintWidget({ label, hint }: { label: string; hint: string }) {
  return (
    <div className="widget">
      <span className="widget-label">{label}</span>
      <span className="muted small">{hint}</span>
    </div>
  );
}

export default function Dashboard({ loaderData }: Route.ComponentProps) {
  const t = useT();
  const language = useLanguage();
  const shell = useShell();
  const { stats, containers, nodes } = loaderData;
  return (
    <section>
      <h1>{t('dashboard.title')}</h1>
      <div className="widgets">
        <Widget to="/runs?status=running" value={stats.running} label={t('dashboard.active')} />
        <Widget to="/runs?status=failed" value={stats.failedLast24h} label={t('dashboard.failed24h')} />
        <Widget to="/approvals" value={shell.pendingApprovals} label={t('dashboard.pending')} />
        {containers && containers.endpoints > 0 ? (
          <Widget to="/containers" value={containers.inError} label={t('dashboard.containers')} testId="containers-in-error">
            {containers.unreachable > 0 ? <span className="error-text small">{t('dashboard.endpointsUnreachable', { count: containers.unreachable })}</span> : null}
          </Widget>
        ) : (
          <HintWidget label={t('dashboard.containers')} hint={t('dashboard.containersHow')} />
        )}
        {nodes && nodes.total > 0 ? (
          <Widget to="/infra" value={nodes.online} label={t('dashboard.nodes')} testId="nodes-online">
            <span className={`small ${nodes.unreachable > 0 ? 'error-text' : 'muted'}`}>{t('dashboard.nodesByStatus', nodes)}</span>
          </Widget>
        ) : (
          <HintWidget label={t('dashboard.nodes')} hint={t('dashboard.nodesHow')} />
        )}
      </div>
      <div className="two-columns">
        <div>
          <h2>{t('dashboard.runsPerDay')}</h2>
          {stats.daily.length === 0 ? <p className="muted">{t('dashboard.noRuns')}</p> : <RunsChart daily={stats.daily} />}
        </div>
        <div>
          <h2>{t('dashboard.incidents')}</h2>
          {stats.recentFailures.length === 0 ? (
            <p className="muted">{t('dashboard.noIncidents')}</p>
          ) : (
            <ul className="incidents">
              {stats.recentFailures.map((failure) => (
                <li key={failure.runId}>
                  <Link to={`/runs/${encodeURIComponent(failure.runId)}`}>{failure.runbook}</Link> <span className="muted">· {failure.environment} · {formatDateTime(language, failure.endedAt)}</span>
                  {failure.error ? <p className="small error-text">{failure.error}</p> : null}
                </li>
              ))}
            </ul>
          )}
        </div>
      </div>
    </section>
  );
}
