import { data, Link } from 'react-router';
import type { Route } from './+types/reports.js';
import { formatDateTime, formatDuration, useLanguage, useT, type MessageKey } from '../i18n/index.js';
import { requireApi } from '../lib/api.server.js';

const RANGES = ['24h', '7d', '30d'] as const;
type Range = (typeof RANGES)[number];

interface RunbookReport {
  runbook: string;
  environment: string;
  runs: number;
  succeeded: number;
  failed: number;
  successRate: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  mttrMs: number | null;
  failuresByStep: Array<{ stepId: string; count: number }>;
  approvalWaiting: { decided: number; meanMs: number | null; p95Ms: number | null };
}

export async function loader({ request }: Route.LoaderArgs) {
  const api = await requireApi(request);
  const asked = new URL(request.url).searchParams.get('range');
  const range: Range = (RANGES as readonly string[]).includes(asked ?? '') ? (asked as Range) : '7d';
  const report = await api.get<{ from: string; to: string; rows: RunbookReport[] }>(`/reports/runs?range=${range}`);
  return data({ range, report }, { headers: api.headers });
}

const duration = (ms: number | null) => (ms === null ? '—' : formatDuration(ms));
const percent = (rate: number | null) => (rate === null ? '—' : `${(rate * 100).toFixed(1)}%`);

function SuccessRateChart({ rows }: { rows: RunbookReport[] }) {
  const t = useT();
  const barHeight = 22;
  const labelWidth = 220;
  const width = 640;
  const height = rows.length * (barHeight + 6);
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={t('reports.chartLabel')} data-testid="success-rate-chart">
        {rows.map((row, index) => {
          const y = index * (barHeight + 6);
          const rate = row.successRate ?? 0;
          return (
            <g key={`${row.runbook}/${row.environment}`}>
              <text x={0} y={y + barHeight * 0.7} className="axis">
                {row.runbook} · {row.environment}
              </text>
              <rect className="bar-succeeded" x={labelWidth} y={y} width={Math.max(rate * (width - labelWidth - 60), 1)} height={barHeight}>
                <title>{percent(row.successRate)}</title>
              </rect>
              <text x={labelWidth + rate * (width - labelWidth - 60) + 6} y={y + barHeight * 0.7} className="axis">
                {percent(row.successRate)}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

export default function Reports({ loaderData }: Route.ComponentProps) {
  const t = useT();
  const language = useLanguage();
  const { range, report } = loaderData;
  const download = (format: 'csv' | 'pdf') => `/reports/export?${new URLSearchParams({ format, range, lang: language })}`;
  return (
    <section className="reports-page">
      <h1>{t('reports.title')}</h1>
      <p className="muted">{t('reports.intro')}</p>
      <nav aria-label={t('reports.range')} className="actions">
        {RANGES.map((option) => (
          <Link key={option} to={`?range=${option}`} aria-current={option === range ? 'page' : undefined}>
            {t(`reports.range.${option}` as MessageKey)}
          </Link>
        ))}
        <a href={download('csv')} download>
          {t('reports.downloadCsv')}
        </a>
        <a href={download('pdf')} download>
          {t('reports.downloadPdf')}
        </a>
      </nav>
      <p className="small muted">
        {formatDateTime(language, report.from)} – {formatDateTime(language, report.to)}
      </p>
      {report.rows.length === 0 ? (
        <p className="muted">{t('reports.none')}</p>
      ) : (
        <>
          <SuccessRateChart rows={report.rows} />
          <table className="table">
            <thead>
              <tr>
                <th>{t('reports.runbook')}</th>
                <th>{t('reports.environment')}</th>
                <th>{t('reports.runs')}</th>
                <th>{t('reports.succeeded')}</th>
                <th>{t('reports.failed')}</th>
                <th>{t('reports.successRate')}</th>
                <th>{t('reports.p50')}</th>
                <th>{t('reports.p95')}</th>
                <th>{t('reports.mttr')}</th>
                <th>{t('reports.approvalWait')}</th>
                <th>{t('reports.failuresByStep')}</th>
              </tr>
            </thead>
            <tbody>
              {report.rows.map((row) => (
                <tr key={`${row.runbook}/${row.environment}`}>
                  <td>
                    <Link to={`/runs?${new URLSearchParams({ runbook: row.runbook, environment: row.environment })}`}>{row.runbook}</Link>
                  </td>
                  <td>{row.environment}</td>
                  <td>{row.runs}</td>
                  <td>{row.succeeded}</td>
                  <td>{row.failed}</td>
                  <td>{percent(row.successRate)}</td>
                  <td>{duration(row.p50Ms)}</td>
                  <td>{duration(row.p95Ms)}</td>
                  <td>{duration(row.mttrMs)}</td>
                  <td>{duration(row.approvalWaiting.meanMs)}</td>
                  <td>{row.failuresByStep.map((entry) => `${entry.stepId} × ${entry.count}`).join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
