// The admins' retention section of Settings: how long each environment they
// administer keeps its runs, logs and artifacts, a purge now (or a dry run),
// and the recent purges with what they removed.
import { Form } from 'react-router';
import { formatDateTime, useLanguage, useT } from '../i18n/index.js';
import { TableHead } from './table-head.js';

export type RetentionKind = 'runs' | 'logs' | 'artifacts';

export interface RetentionRow extends Record<RetentionKind, string> {
  environment: string;
  set: Record<RetentionKind, string | null>;
}

export interface PurgeRow {
  id: string;
  trigger: string;
  requestedBy: string | null;
  dryRun: boolean;
  status: string;
  startedAt: string;
  totals: { runs: number; logLines: number; histories: number; artifacts: number };
}

export interface RetentionData {
  namespaceRetention: string | null;
  environments: RetentionRow[];
  purges: PurgeRow[];
}

const KINDS: RetentionKind[] = ['runs', 'logs', 'artifacts'];

export function RetentionSettings({ retention }: { retention: RetentionData }) {
  const t = useT();
  const language = useLanguage();
  return (
    <section aria-labelledby="retention-title">
      <h2 id="retention-title">{t('retention.title')}</h2>
      <p className="muted">{t('retention.help')}</p>
      <p className="muted" data-testid="namespace-retention">
        {t('retention.namespace', { duration: retention.namespaceRetention ?? '—' })}
      </p>
      {retention.environments.map((view) => (
        <Form method="post" className="inline-form" key={view.environment} data-environment={view.environment}>
          <input type="hidden" name="intent" value="retention" />
          <input type="hidden" name="environment" value={view.environment} />
          <strong>{view.environment}</strong>
          {KINDS.map((kind) => (
            <span key={kind}>
              <label htmlFor={`retention-${view.environment}-${kind}`}>
                {t(`retention.${kind}`)} {view.set[kind] === null ? <span className="muted">{t('retention.default')}</span> : null}
              </label>{' '}
              <input
                id={`retention-${view.environment}-${kind}`}
                name={kind}
                size={6}
                defaultValue={view.set[kind] ?? ''}
                placeholder={view[kind]}
                pattern="\s*(\d+(ms|s|m|h|d))+\s*"
              />
            </span>
          ))}
          <button type="submit">{t('retention.save')}</button>
        </Form>
      ))}
      <Form method="post" className="inline-form">
        <input type="hidden" name="intent" value="retention-purge" />
        <label>
          <input type="checkbox" name="dryRun" value="true" defaultChecked /> {t('retention.dryRun')}
        </label>
        <button type="submit">{t('retention.purgeNow')}</button>
      </Form>
      <h3>{t('retention.purges')}</h3>
      {retention.purges.length === 0 ? (
        <p className="muted">{t('retention.noPurges')}</p>
      ) : (
        <table className="table" data-testid="purges">
          <TableHead columns={[t('retention.started'), t('retention.by'), t('retention.status'), t('retention.runs'), t('retention.logLines'), t('retention.histories'), t('retention.artifacts')]} />
          <tbody>
            {retention.purges.map((purge) => (
              <tr key={purge.id}>
                <td>{formatDateTime(language, purge.startedAt)}</td>
                <td>{purge.requestedBy ?? t('retention.schedule')}</td>
                <td>
                  {purge.status}
                  {purge.dryRun ? ` (${t('retention.dry')})` : ''}
                </td>
                <td>{purge.totals.runs}</td>
                <td>{purge.totals.logLines}</td>
                <td>{purge.totals.histories}</td>
                <td>{purge.totals.artifacts}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The form's change: an empty field puts the default back (null), a filled one sets it. */
export function retentionChange(form: FormData): Record<RetentionKind, string | null> {
  const change = {} as Record<RetentionKind, string | null>;
  for (const kind of KINDS) {
    const value = String(form.get(kind) ?? '').trim();
    change[kind] = value === '' ? null : value;
  }
  return change;
}
