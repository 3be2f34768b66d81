// AI Ops incidents on the web: record one (symptoms, cause, resolution and
// the runbook that fixed it) or import postmortems and exports, pasted as
// Markdown, JSON or CSV. The route's action sends them to the API, whose RBAC
// and audit apply.
import { Form, useNavigation } from 'react-router';
import type { Translate } from '../i18n/index.js';

export interface IncidentAnswer {
  intent: string;
  error?: string;
  recorded?: string;
  imported?: number;
  refused?: Array<{ record: number; title?: string; message: string }>;
}

/** "k=v" lines (or spaces) as a runbook's inputs. */
export function parseInputs(text: string): Record<string, string> {
  const inputs: Record<string, string> = {};
  for (const pair of text.split(/[\n\s]+/).filter(Boolean)) {
    const at = pair.indexOf('=');
    if (at > 0) inputs[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return inputs;
}

export function IncidentPanel({ environment, answer, mayOperate, t }: { environment: string; answer: IncidentAnswer | undefined; mayOperate: boolean; t: Translate }) {
  const navigation = useNavigation();
  const busy = navigation.state !== 'idle';
  const recorded = answer?.intent === 'incident' ? answer : undefined;
  const imported = answer?.intent === 'import-incidents' ? answer : undefined;
  const blocked = mayOperate ? undefined : 'incident-blocked';
  return (
    <section className="card incident-panel" aria-labelledby="incidents">
      <h2 id="incidents">{t('ai.incident.title')}</h2>
      <p className="muted small">{t('ai.incident.help')}</p>
      <Form method="post" className="incident-form" aria-label={t('ai.incident.add')}>
        <input type="hidden" name="environment" value={environment} />
        <label htmlFor="incident-title">{t('ai.incident.name')}</label>
        <input id="incident-title" name="title" required maxLength={500} />
        <label htmlFor="incident-time">{t('ai.incident.time')}</label>
        <input id="incident-time" name="occurredAt" type="datetime-local" />
        <label htmlFor="incident-services">{t('ai.incident.services')}</label>
        <input id="incident-services" name="services" />
        <label htmlFor="incident-symptoms">{t('ai.incident.symptoms')}</label>
        <textarea id="incident-symptoms" name="symptoms" rows={3} />
        <label htmlFor="incident-cause">{t('ai.incident.cause')}</label>
        <textarea id="incident-cause" name="cause" rows={2} />
        <label htmlFor="incident-resolution">{t('ai.incident.resolution')}</label>
        <textarea id="incident-resolution" name="resolution" rows={2} />
        <label htmlFor="incident-runbook">{t('ai.incident.runbook')}</label>
        <input id="incident-runbook" name="runbook" className="mono" />
        <label htmlFor="incident-inputs">{t('ai.incident.inputs')}</label>
        <input id="incident-inputs" name="inputs" className="mono" placeholder="container=web" />
        <button type="submit" name="intent" value="incident" disabled={busy || !mayOperate} aria-describedby={blocked}>
          {t('ai.incident.add')}
        </button>
        {recorded?.recorded ? (
          <p className="notice" role="status">
            {t('ai.incident.added')}
          </p>
        ) : null}
        {recorded?.error ? (
          <p className="error" role="alert">
            {recorded.error}
          </p>
        ) : null}
      </Form>
      <Form method="post" className="incident-import" aria-label={t('ai.incident.import')}>
        <h3>{t('ai.incident.import')}</h3>
        <p className="muted small">{t('ai.incident.importHelp')}</p>
        <input type="hidden" name="environment" value={environment} />
        <label htmlFor="incident-format">{t('ai.incident.format')}</label>
        <select id="incident-format" name="format" defaultValue="markdown">
          <option value="markdown">Markdown</option>
          <option value="json">JSON</option>
          <option value="csv">CSV</option>
        </select>
        <label htmlFor="incident-content">{t('ai.incident.content')}</label>
        <textarea id="incident-content" name="content" rows={6} required className="mono" />
        <button type="submit" name="intent" value="import-incidents" disabled={busy || !mayOperate} aria-describedby={blocked}>
          {t('ai.incident.importSubmit')}
        </button>
        {imported?.imported !== undefined ? (
          <p className="notice" role="status">
            {t('ai.incident.imported', { count: imported.imported, refused: imported.refused?.length ?? 0 })}
          </p>
        ) : null}
        {imported?.refused?.length ? (
          <ul className="error small">
            {imported.refused.map((refusal) => (
              <li key={refusal.record}>{t('ai.incident.refusal', { record: refusal.record, title: refusal.title ?? '', message: refusal.message })}</li>
            ))}
          </ul>
        ) : null}
        {imported?.error ? (
          <p className="error" role="alert">
            {imported.error}
          </p>
        ) : null}
      </Form>
      {mayOperate ? null : (
        <p className="notice" id="incident-blocked">
          {t('ai.incident.blockedRole', { environment })}
        </p>
      )}
    </section>
  );
}
