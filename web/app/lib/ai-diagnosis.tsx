// "Diagnose" on a failed run: the button (in the run's header) and the
// diagnosis (below it) share one fetcher, keyed by the run. The diagnosis
// shows the likely cause, the answer with its sources, the similar past
// incidents with what resolved them, and "Propose a fix".
import { lazy, Suspense, useEffect, useRef } from 'react';
import { useFetcher } from 'react-router';
import type { Translate } from '../i18n/index.js';
import type { Diagnosis } from './ai-types.js';

// The diagnosis itself (and the AI styles) load only once there is one to show:
// a run page that is never diagnosed does not pay for them.
const DiagnosisView = lazy(() => import('./ai-diagnosis-view.js').then((module) => ({ default: module.DiagnosisView })));

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
      {answer?.diagnosis ? (
        <Suspense fallback={<p className="muted">{t('ai.diagnose.running')}</p>}>
          <DiagnosisView diagnosis={answer.diagnosis} runId={runId} environment={environment} t={t} headingRef={heading} />
        </Suspense>
      ) : null}
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
      {fetcher.data?.diagnosis ? (
        <Suspense fallback={<p className="muted">{t('ai.diagnose.running')}</p>}>
          <DiagnosisView diagnosis={fetcher.data.diagnosis} environment={environment} t={t} />
        </Suspense>
      ) : null}
    </section>
  );
}
