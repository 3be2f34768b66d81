// An AI answer as text whose [n] markers link to their sources (the run page
// at the cited step and log lines), the list of sources, and thumbs up/down.
import { Fragment } from 'react';
import { Link, useFetcher } from 'react-router';
import type { MessageKey, Translate } from '../i18n/index.js';
import { citationHref, type Citation } from './ai-types.js';

const KIND_KEYS: Record<Citation['kind'], MessageKey> = {
  step: 'ai.citation.step',
  log: 'ai.citation.log',
  history: 'ai.citation.history',
  incident: 'ai.citation.incident',
  document: 'ai.citation.document',
};

function citationLabel(citation: Citation, t: Translate): string {
  const kind = t(KIND_KEYS[citation.kind] ?? 'ai.citation.document');
  const lines = citation.lines ? ` · ${t('ai.citation.lines', { from: citation.lines.from, to: citation.lines.to })}` : '';
  return `${kind}: ${citation.title}${lines}`;
}

/** The answer's paragraphs, each [n] a link to citation n (plain text when n is not cited). */
export function AnswerText({ text, citations, t }: { text: string; citations: Citation[]; t: Translate }) {
  const byNumber = new Map(citations.map((citation) => [citation.n, citation]));
  return (
    <div className="ai-answer-text">
      {text.split(/\n{2,}/).map((paragraph, index) => (
        <p key={index}>
          {paragraph.split(/(\[\d+\])/).map((part, partIndex) => {
            const cited = /^\[(\d+)\]$/.exec(part);
            const citation = cited ? byNumber.get(Number(cited[1])) : undefined;
            if (!citation) return <Fragment key={partIndex}>{part}</Fragment>;
            return (
              <Link key={partIndex} to={citationHref(citation)} className="citation-marker" aria-label={t('ai.citation.open', { n: citation.n, source: citationLabel(citation, t) })}>
                [{citation.n}]
              </Link>
            );
          })}
        </p>
      ))}
    </div>
  );
}

export function CitationList({ citations, t }: { citations: Citation[]; t: Translate }) {
  if (citations.length === 0) return null;
  return (
    <div className="citations">
      <h4>{t('ai.sources')}</h4>
      <ol>
        {citations.map((citation) => (
          <li key={citation.n} value={citation.n} data-kind={citation.kind}>
            <Link to={citationHref(citation)} className="citation-link">
              {citationLabel(citation, t)}
            </Link>
          </li>
        ))}
      </ol>
    </div>
  );
}

/** Thumbs up / down on an answer; the vote goes back into the knowledge base. */
export function Feedback({ answerId, environment, t }: { answerId: string; environment: string; t: Translate }) {
  const fetcher = useFetcher<{ vote?: string; error?: string }>({ key: `feedback-${answerId}` });
  const sent = fetcher.formData ? String(fetcher.formData.get('vote')) : fetcher.data?.vote;
  return (
    <fetcher.Form method="post" action="/ai/feedback" className="feedback" aria-label={t('ai.feedback.label')}>
      <input type="hidden" name="answerId" value={answerId} />
      <input type="hidden" name="environment" value={environment} />
      <button type="submit" name="vote" value="up" className="ghost" aria-pressed={sent === 'up'} aria-label={t('ai.feedback.up')} title={t('ai.feedback.up')} disabled={fetcher.state !== 'idle'}>
        <span aria-hidden="true">👍</span>
      </button>
      <button type="submit" name="vote" value="down" className="ghost" aria-pressed={sent === 'down'} aria-label={t('ai.feedback.down')} title={t('ai.feedback.down')} disabled={fetcher.state !== 'idle'}>
        <span aria-hidden="true">👎</span>
      </button>
      <span role="status" className="muted small">
        {fetcher.data?.error ? <span className="error-text">{fetcher.data.error}</span> : fetcher.data?.vote ? t('ai.feedback.thanks') : ''}
      </span>
    </fetcher.Form>
  );
}

export function OfflineBanner({ t }: { t: Translate }) {
  return (
    <p className="notice ai-offline" role="status" data-testid="ai-offline">
      {t('ai.offline')}
    </p>
  );
}

const RISK_KEYS: Record<string, MessageKey> = { low: 'ai.risk.low', medium: 'ai.risk.medium', high: 'ai.risk.high' };

export function RiskBadge({ level, t }: { level: string; t: Translate }) {
  const key = RISK_KEYS[level];
  return <span className={`risk risk-${level}`}>{key ? t(key) : level}</span>;
}

/** The model and cost of an answer, or that it came without a model. */
export function AnswerMeta({ model, accounting, t }: { model: string | null | undefined; accounting?: { promptTokens: number; completionTokens: number; latencyMs: number; costUsd: number } | undefined; t: Translate }) {
  if (model === undefined) return null;
  if (model === null) return <p className="muted small">{t('ai.meta.offline')}</p>;
  return (
    <p className="muted small">
      {accounting
        ? t('ai.meta.model', { model, tokens: accounting.promptTokens + accounting.completionTokens, seconds: (accounting.latencyMs / 1000).toFixed(1), cost: accounting.costUsd.toFixed(4) })
        : t('ai.meta.modelOnly', { model })}
    </p>
  );
}
