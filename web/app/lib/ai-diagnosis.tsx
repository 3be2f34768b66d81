// "Diagnose" on a failed run: the button (in the run's header) and the
// diagnosis (below it) share one fetcher, keyed by the run. The diagnosis
// shows the likely cause, the answer with its sources, the similar past
// incidents with what resolved them, and "Propose a fix".
import { useEffect, useRef } from 'react';
import { Link, useFetcher } from 'react-router';
import type { Translate } from '../i18n/index.js';
import { AnswerMeta, AnswerText, CitationList, Feedback, OfflineBanner } from './ai-answer.js';
import type { Diagnosis } from './ai-types.js';
import '../ai.css';

type DiagnoseAnswer = { diagnosis?: Diagnosis; error?: string };

const fetcherKey = (runId: string) => `diagnose-${runId}`;

export function DiagnoseButton({ runId, t }: { runId: string; t: Translate }) {
  const fetcher = useFetcher<DiagnoseAnswer>({ key: fetcherKey(runId) });
  const busy = fetcher.state !== 'idle';
  return (
    <fetcher.Form method="post" action="/ai/diagnose">
      <input type="hidden" name="runId" value={runId} />
      <button type="submit" className="primary" disabled={busy} aria-controls="diagnosis" data-testid="diagnose">
        {busy ? t('ai.diagnose.running') : t('ai.diagnose.button')}
      </button>
    </fetcher.Form>
  );
}

export function DiagnosisPanel({ runId, environment, t }: { runId: string; environment: string; t: Translate }) {
  const fetcher = useFetcher<DiagnoseAnswer>({ key: fetcherKey(runId) });
  const answer = fetcher.data;
  const heading = useRef<HTMLHeadingElement>(null);
  // A fresh diagnosis takes the focus, so keyboard and screen-reader users land on it.
  useEffect(() => {
    if (answer?.diagnosis) heading.current?.focus();
  }, [answer]);
  return (
    <div id="diagnosis" aria-live="polite" aria-busy={fetcher.state !== 'idle'}>
      {fetcher.state !== 'idle' ? <p className="muted">{t('ai.diagnose.running')}</p> : null}
      {answer?.error ? (
        <p className="error" role="alert">
          {answer.error}
        </p>
      ) : null}
      {answer?.diagnosis ? <DiagnosisView diagnosis={answer.diagnosis} runId={runId} environment={environment} t={t} headingRef={heading} /> : null}
    </div>
  );
}

/** A described problem (no run), diagnosed from the environment's knowledge. */
export function DescribeProblem({ environment, t }: { environment: string; t: Translate }) {
  const fetcher = useFetcher<DiagnoseAnswer>({ key: 'diagnose-text' });
  const busy = fetcher.state !== 'idle';
  return (
    <section className="card" aria-labelledby="describe">
      <h2 id="describe">{t('ai.describe.title')}</h2>
      <fetcher.Form method="post" action="/ai/diagnose" className="note-form">
        <input type="hidden" name="environment" value={environment} />
        <label htmlFor="describe-text">{t('ai.describe.label')}</label>
        <textarea id="describe-text" name="text" rows={3} required maxLength={4000} />
        <button type="submit" disabled={busy || !environment}>
          {busy ? t('ai.diagnose.running') : t('ai.diagnose.button')}
        </button>
      </fetcher.Form>
      {fetcher.data?.error ? (
        <p className="error" role="alert">
          {fetcher.data.error}
        </p>
      ) : null}
      {fetcher.data?.diagnosis ? <DiagnosisView diagnosis={fetcher.data.diagnosis} environment={environment} t={t} /> : null}
    </section>
  );
}

export function DiagnosisView({ diagnosis, runId, environment, t, headingRef }: { diagnosis: Diagnosis; runId?: string | undefined; environment: string; t: Translate; headingRef?: React.Ref<HTMLHeadingElement> }) {
  const fix = new URLSearchParams({ ...(runId ? { run: runId } : {}), goal: t('ai.diagnose.fixGoal', { cause: diagnosis.cause }) });
  return (
    <section className="diagnosis card" aria-labelledby="diagnosis-title" data-testid="diagnosis">
      <h2 id="diagnosis-title" tabIndex={-1} ref={headingRef}>
        {t('ai.diagnose.title')}
      </h2>
      {diagnosis.model === null ? <OfflineBanner t={t} /> : null}
      <h3>{t('ai.diagnose.cause')}</h3>
      <p className="diagnosis-cause" data-testid="diagnosis-cause">
        {diagnosis.cause}
      </p>
      <h3>{t('ai.diagnose.explanation')}</h3>
      <AnswerText text={diagnosis.answer} citations={diagnosis.citations} t={t} />
      <CitationList citations={diagnosis.citations} t={t} />
      <h3>{t('ai.diagnose.similar')}</h3>
      {diagnosis.similarIncidents.length === 0 ? (
        <p className="muted">{t('ai.diagnose.noSimilar')}</p>
      ) : (
        <ul className="similar-incidents">
          {diagnosis.similarIncidents.map((incident) => (
            <li key={incident.documentId}>
              {incident.runId ? <Link to={`/runs/${encodeURIComponent(incident.runId)}`}>{incident.title}</Link> : <span>{incident.title}</span>}{' '}
              <span className="muted small">{t('ai.diagnose.similarity', { score: Math.round(incident.score * 100) })}</span>
              {incident.resolutions.length > 0 ? (
                <ul>
                  {incident.resolutions.map((resolution) => (
                    <li key={resolution.documentId}>
                      <span className="muted">{t('ai.diagnose.resolvedBy')}</span> {resolution.title}
                      {resolution.runbook ? (
                        <>
                          {' '}
                          <Link to={`/runbooks/${encodeURIComponent(resolution.runbook)}`} className="tag">
                            {resolution.runbook}
                          </Link>
                        </>
                      ) : null}
                    </li>
                  ))}
                </ul>
              ) : (
                <p className="muted small">{t('ai.diagnose.noResolution')}</p>
              )}
            </li>
          ))}
        </ul>
      )}
      <div className="answer-footer">
        <Feedback answerId={diagnosis.id} environment={environment} t={t} />
        <AnswerMeta model={diagnosis.model} accounting={diagnosis.accounting} t={t} />
      </div>
      <Link to={`/ai?${fix}#plan`} className="button primary" data-testid="propose-fix">
        {t('ai.diagnose.proposeFix')}
      </Link>
    </section>
  );
}
