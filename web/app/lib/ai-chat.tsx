// The AI chat: questions go to /ai/chat (the web server streams the API's
// answer through), answers appear as they stream, with their sources and
// thumbs up/down once done.
import { useEffect, useRef, useState } from 'react';
import type { Translate } from '../i18n/index.js';
import { AnswerMeta, AnswerText, CitationList, Feedback } from './ai-answer.js';
import type { Accounting, Citation } from './ai-types.js';
import { readEventStream } from './event-stream.js';

interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
  citations?: Citation[];
  /** Set when the answer is complete: its id for feedback, and who answered. */
  id?: string;
  model?: string | null;
  accounting?: Accounting;
  error?: string;
  streaming?: boolean;
}

function problemText(data: unknown, fallback: string): string {
  const problem = data as { detail?: string; title?: string } | undefined;
  return problem?.detail ?? problem?.title ?? fallback;
}

export function AiChat({ environment, runId, t, onModel }: { environment: string; runId?: string | undefined; t: Translate; onModel: (model: string | null) => void }) {
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [draft, setDraft] = useState('');
  const [busy, setBusy] = useState(false);
  const abort = useRef<AbortController | undefined>(undefined);
  const log = useRef<HTMLDivElement>(null);
  useEffect(() => () => abort.current?.abort(), []);
  // Keep the newest text in view as the answer streams in.
  useEffect(() => {
    if (log.current) log.current.scrollTop = log.current.scrollHeight;
  }, [messages]);

  const updateLast = (change: (message: ChatMessage) => ChatMessage) => setMessages((current) => current.slice(0, -1).concat(change(current[current.length - 1]!)));

  const ask = async () => {
    const question = draft.trim();
    if (!question || busy) return;
    const history = messages.filter((message) => !message.error && message.content).map(({ role, content }) => ({ role, content }));
    const sent = [...history, { role: 'user' as const, content: question }];
    setMessages((current) => [...current, { role: 'user', content: question }, { role: 'assistant', content: '', streaming: true }]);
    setDraft('');
    setBusy(true);
    const controller = new AbortController();
    abort.current = controller;
    try {
      const response = await fetch('/ai/chat', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ environment, ...(runId ? { runId } : {}), messages: sent }),
        signal: controller.signal,
      });
      if (!response.ok || !response.body) {
        const problem: unknown = await response.json().catch(() => undefined);
        updateLast((message) => ({ ...message, streaming: false, error: problemText(problem, t('ai.chat.failed', { status: response.status })) }));
        return;
      }
      await readEventStream(response.body, ({ event, data }) => {
        if (event === 'citations') updateLast((message) => ({ ...message, citations: data as Citation[] }));
        else if (event === 'delta') updateLast((message) => ({ ...message, content: message.content + String((data as { text?: string }).text ?? '') }));
        else if (event === 'done') {
          const done = data as { id: string; model: string | null; accounting?: Accounting };
          onModel(done.model ?? null);
          updateLast((message) => ({ ...message, id: done.id, model: done.model ?? null, ...(done.accounting ? { accounting: done.accounting } : {}), streaming: false }));
        } else if (event === 'error') updateLast((message) => ({ ...message, streaming: false, error: problemText(data, t('ai.chat.failed', { status: 500 })) }));
      });
      updateLast((message) => ({ ...message, streaming: false }));
    } catch (error) {
      const stopped = controller.signal.aborted;
      updateLast((message) => ({ ...message, streaming: false, ...(stopped ? { error: t('ai.chat.stopped') } : { error: error instanceof Error ? error.message : String(error) }) }));
    } finally {
      setBusy(false);
      abort.current = undefined;
    }
  };

  return (
    <section className="ai-chat card" aria-labelledby="ai-chat-title">
      <h2 id="ai-chat-title">{t('ai.chat.title')}</h2>
      {runId ? <p className="muted small">{t('ai.chat.aboutRun', { run: runId })}</p> : null}
      <div ref={log} className="chat-log" role="log" aria-live="polite" aria-busy={busy} aria-label={t('ai.chat.log')} data-testid="chat-log" tabIndex={0}>
        {messages.length === 0 ? <p className="muted">{t('ai.chat.empty')}</p> : null}
        {messages.map((message, index) => (
          <article key={index} className={`chat-message chat-${message.role}`} aria-label={message.role === 'user' ? t('ai.chat.you') : t('ai.chat.jarvis')}>
            <h3 className="sr-only">{message.role === 'user' ? t('ai.chat.you') : t('ai.chat.jarvis')}</h3>
            {message.role === 'user' ? (
              <p>{message.content}</p>
            ) : (
              <>
                {message.content ? <AnswerText text={message.content} citations={message.citations ?? []} t={t} /> : message.streaming ? <p className="muted">{t('ai.chat.thinking')}</p> : null}
                {message.error ? (
                  <p className="error" role="alert">
                    {message.error}
                  </p>
                ) : null}
                <CitationList citations={message.citations ?? []} t={t} />
                {message.id ? (
                  <div className="answer-footer">
                    <Feedback answerId={message.id} environment={environment} t={t} />
                    <AnswerMeta model={message.model} accounting={message.accounting} t={t} />
                  </div>
                ) : null}
              </>
            )}
          </article>
        ))}
      </div>
      <form
        className="chat-form"
        onSubmit={(event) => {
          event.preventDefault();
          void ask();
        }}
      >
        <label htmlFor="chat-question">{t('ai.chat.question')}</label>
        <textarea
          id="chat-question"
          value={draft}
          rows={3}
          aria-describedby="chat-hint"
          onChange={(event) => setDraft(event.target.value)}
          onKeyDown={(event) => {
            // Enter sends, Shift+Enter starts a new line.
            if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
              event.preventDefault();
              void ask();
            }
          }}
        />
        <p id="chat-hint" className="muted small">
          {t('ai.chat.hint')}
        </p>
        <div className="actions">
          <button type="submit" className="primary" disabled={busy || !draft.trim() || !environment}>
            {t('ai.chat.send')}
          </button>
          {busy ? (
            <button type="button" onClick={() => abort.current?.abort()}>
              {t('ai.chat.stop')}
            </button>
          ) : null}
        </div>
      </form>
    </section>
  );
}
