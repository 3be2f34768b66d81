// An AI answer as text whose [n] markers link to their sources (the run page
// at the cited step and log lines), the list of sources, and thumbs up/down.
import { Fragment, useState } from 'react';
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
  return `${t(KIND_KEYS[citation.kind] ?? 'ai.citation.document')}: ${citation.title}`;
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
            <span className="tag">{t(KIND_KEYS[citation.kind] ?? 'ai.citation.document')}</span>{' '}
            <Link to={citationHref(citation)} className="citation-link">
              {citation.title}
            </Link>
          </li>
        ))}
      </ol>
    </div>
  );
}

/** A thumb drawn inline (emoji fonts are not everywhere). */
function Thumb({ down }: { down?: boolean }) {
  return (
    <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" focusable="false" className="thumb" style={down ? { transform: 'rotate(180deg)' } : undefined}>
      <path d="M7 11v10H4a1 1 0 0 1-1-1v-8a1 1 0 0 1 1-1h3zm2 10h8.3a2 2 0 0 0 2-1.7l1.2-7a2 2 0 0 0-2-2.3H14V6a3 3 0 0 0-3-3l-2 8v10z" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinejoin="round" />
    </svg>
  );
}

/**
 * Thumbs up / down on an answer; the vote goes back into the knowledge base.
 * Thumbs down first asks what was wrong (optional), then sends once.
 */
export function Feedback({ answerId, environment, t }: { answerId: string; environment: string; t: Translate }) {
  const fetcher = useFetcher<{ vote?: string; error?: string }>({ key: `feedback-${answerId}` });
  const [askingReason, setAskingReason] = useState(false);
  const sent = fetcher.formData ? String(fetcher.formData.get('vote')) : fetcher.data?.vote;
  const reasonId = `feedback-reason-${answerId}`;
  const hidden = (
    <>
      <input type="hidden" name="answerId" value={answerId} />
      <input type="hidden" name="environment" value={environment} />
    </>
  );
  return (
    <div className="feedback" role="group" aria-label={t('ai.feedback.label')}>
      <fetcher.Form method="post" action="/ai/feedback" onSubmit={() => setAskingReason(false)}>
        {hidden}
        <button type="submit" name="vote" value="up" className="ghost" aria-pressed={sent === 'up'} aria-label={t('ai.feedback.up')} title={t('ai.feedback.up')} disabled={fetcher.state !== 'idle'}>
          <Thumb />
        </button>
      </fetcher.Form>
      <button type="button" className="ghost" aria-pressed={sent === 'down' || askingReason} aria-expanded={askingReason} aria-controls={reasonId} aria-label={t('ai.feedback.down')} title={t('ai.feedback.down')} disabled={fetcher.state !== 'idle'} onClick={() => setAskingReason((open) => !open)}>
        <Thumb down />
      </button>
      {askingReason ? (
        <fetcher.Form method="post" action="/ai/feedback" className="inline-form" id={reasonId} onSubmit={() => setAskingReason(false)}>
          {hidden}
          <label htmlFor={`${reasonId}-text`}>{t('ai.feedback.reason')}</label>
          <input id={`${reasonId}-text`} name="reason" maxLength={2000} autoFocus />
          <button type="submit" name="vote" value="down">
            {t('ai.feedback.sendDown')}
          </button>
        </fetcher.Form>
      ) : null}
      <span role="status" className="muted small">
        {fetcher.data?.error ? <span className="error-text">{fetcher.data.error}</span> : fetcher.data?.vote ? t('ai.feedback.thanks') : ''}
      </span>
    </div>
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
