// A diagnosis: the likely cause, the answer with its sources, the similar past
// incidents with what resolved them, feedback and "Propose a fix". Loaded on
// demand by ai-diagnosis.tsx.
import { Link } from 'react-router';
import type { Translate } from '../i18n/index.js';
import { AnswerMeta, AnswerText, CitationList, Feedback, OfflineBanner } from './ai-answer.js';
import type { Diagnosis } from './ai-types.js';
import '../ai.css';

export function DiagnosisView({
  diagnosis,
  runId,
  environment,
  t,
  headingRef,
}: {
  diagnosis: Diagnosis;
  runId?: string | undefined;
  environment: string;
  t: Translate;
  headingRef?: React.Ref<HTMLHeadingElement>;
}) {
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
      {diagnosis.suspectLines?.length ? (
        <div className="notice" role="note" data-testid="suspect-lines">
          <p>{t('ai.diagnose.suspect')}</p>
          <ul>
            {diagnosis.suspectLines.map((line) => (
              <li key={line.seq} className="mono small">
                {line.seq}: {line.text}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
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
              <span className="muted small">{t('ai.diagnose.similarity', { score: Math.round((incident.similarity ?? incident.score) * 100) })}</span>
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
