// The run page's fleet view: a fleet step's batch progress and counts, and a
// page of its targets (filtered by status, more on demand). Counts come with
// the run's progress; the targets load from the API a page at a time, so a
// rollout over thousands of nodes shows at once.
import { useEffect, useState } from 'react';
import { useFetcher } from 'react-router';
import type { TargetResult, TargetStatus } from '../../../manifest/fleet.js';
import type { FleetProgress, StepProgress } from '../../../workflows/messages.js';
import { formatDuration, type Translate } from '../i18n/index.js';
import { StatusBadge } from './status.js';

const STATUSES: TargetStatus[] = ['failed', 'succeeded', 'skipped', 'running', 'pending'];
const PAGE = 100;

interface TargetsPage {
  stepId: string;
  targets: TargetResult[];
  next?: string;
}

export function FleetPanel({ runId, step, fleet, t }: { runId: string; step: StepProgress; fleet: FleetProgress; t: Translate }) {
  const fetcher = useFetcher<TargetsPage>();
  const [status, setStatus] = useState<TargetStatus | ''>('');
  const [shown, setShown] = useState<TargetResult[]>([]);
  const base = `/runs/${encodeURIComponent(runId)}/targets.json?${new URLSearchParams({ step: step.id, limit: String(PAGE), ...(status ? { status } : {}) })}`;
  const counts = STATUSES.map((entry) => `${entry}:${fleet.counts[entry]}`).join(',');
  // A new filter, or new results (the counts moved): the first page again.
  useEffect(() => {
    setShown([]);
    void fetcher.load(base);
  }, [base, counts]);
  useEffect(() => {
    const page = fetcher.data;
    if (page && fetcher.state === 'idle') setShown((current) => [...current.filter((entry) => !page.targets.some((target) => target.node === entry.node)), ...page.targets]);
  }, [fetcher.data, fetcher.state]);
  const total = Math.max(1, fleet.total);
  return (
    <section className="fleet-panel" data-testid={`fleet-${step.id}`}>
      <h2>{t('fleet.title', { step: step.title ?? step.id })}</h2>
      <p className="muted">
        {t('fleet.batches', { current: fleet.currentBatch, batches: fleet.batches, size: fleet.batchSize, budget: fleet.failureBudget })}
        {fleet.reused ? ` · ${t('fleet.reused')}` : ''}
      </p>
      {fleet.stopped ? <p className="error">{t('fleet.stopped', { reason: fleet.stopped })}</p> : null}
      <div className="fleet-bar" role="img" aria-label={t('fleet.progressLabel')}>
        {STATUSES.filter((entry) => fleet.counts[entry] > 0).map((entry) => (
          <span key={entry} className={`status-${entry}`} style={{ width: `${(100 * fleet.counts[entry]) / total}%` }} />
        ))}
      </div>
      <dl className="facts">
        <dt>{t('fleet.count.total')}</dt>
        <dd>{fleet.total}</dd>
        {STATUSES.map((entry) => (
          <span key={entry} style={{ display: 'contents' }}>
            <dt>
              <StatusBadge status={entry} t={t} />
            </dt>
            <dd data-testid={`fleet-count-${entry}`}>{fleet.counts[entry]}</dd>
          </span>
        ))}
      </dl>
      <label>
        {t('fleet.filter')}{' '}
        <select value={status} onChange={(event) => setStatus(event.currentTarget.value as TargetStatus | '')}>
          <option value="">{t('fleet.filter.all')}</option>
          {STATUSES.map((entry) => (
            <option key={entry} value={entry}>
              {t(`status.${entry}`)}
            </option>
          ))}
        </select>
      </label>
      {shown.length === 0 ? (
        <p className="muted">{fetcher.state === 'idle' ? t('fleet.none') : t('fleet.loading')}</p>
      ) : (
        <table className="fleet-targets">
          <thead>
            <tr>
              <th>{t('fleet.node')}</th>
              <th>{t('fleet.batch')}</th>
              <th>{t('run.status')}</th>
              <th>{t('fleet.attempts')}</th>
              <th>{t('fleet.duration')}</th>
              <th>{t('fleet.result')}</th>
              <th>{t('fleet.compensation')}</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((target) => (
              <tr key={target.node}>
                <td className="mono">{target.node}</td>
                <td>{target.batch}</td>
                <td>
                  <StatusBadge status={target.status} t={t} />
                </td>
                <td>{target.attempts || ''}</td>
                <td>{target.durationMs === undefined ? '' : formatDuration(target.durationMs)}</td>
                <td className="mono">{(target.error ?? target.outputSummary ?? '').slice(0, 160)}</td>
                <td>{target.compensation ? <StatusBadge status={target.compensation.status} t={t} /> : null}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {fetcher.data?.next ? (
        <button type="button" onClick={() => void fetcher.load(`${base}&cursor=${encodeURIComponent(fetcher.data!.next!)}`)}>
          {t('fleet.more')}
        </button>
      ) : null}
    </section>
  );
}
