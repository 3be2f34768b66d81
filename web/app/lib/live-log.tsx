// The run's live log over the API's WebSocket: every line after the last one
// seen, then live ones; on a dropped socket it asks for a new ticket and
// reconnects from the last sequence number, so nothing is lost or doubled.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { Translate } from '../i18n/index.js';
import { VirtualList } from './virtual-list.js';

import type { StoredLine as LogLine } from '../../../logs/run-log-store.js';

export interface ProgressMessage {
  status?: string;
  progress?: unknown;
}

export type { LogLine };

export function useLiveLog(runId: string, onProgress: (message: ProgressMessage) => void) {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [connected, setConnected] = useState(false);
  const lastSeq = useRef(0);
  const progressHandler = useRef(onProgress);
  progressHandler.current = onProgress;
  useEffect(() => {
    let socket: WebSocket | undefined;
    let stopped = false;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let delay = 500;
    const connect = async () => {
      try {
        const response = await fetch(`/runs/${encodeURIComponent(runId)}/log-ticket`, { method: 'POST' });
        if (!response.ok) throw new Error(`ticket: ${response.status}`);
        const { url } = (await response.json()) as { url: string };
        if (stopped) return;
        socket = new WebSocket(`${url}&after=${lastSeq.current}`);
        socket.onopen = () => {
          setConnected(true);
          delay = 500;
        };
        socket.onmessage = (event) => {
          const message = JSON.parse(String(event.data)) as { type: string; lines?: LogLine[]; readable?: boolean } & ProgressMessage;
          if (message.type === 'lines' && message.lines) {
            const fresh = message.lines.filter((line) => line.seq > lastSeq.current);
            if (fresh.length === 0) return;
            lastSeq.current = fresh[fresh.length - 1]!.seq;
            setLines((current) => current.concat(fresh));
          } else if (message.type === 'status') {
            // The server cannot read the log for a while: shown like a lost connection until it can again.
            setConnected(message.readable === true);
          } else if (message.type === 'progress') {
            progressHandler.current(message);
          }
        };
        socket.onclose = () => {
          setConnected(false);
          if (!stopped) retry = setTimeout(() => void connect(), delay);
          delay = Math.min(delay * 2, 10_000);
        };
      } catch {
        if (!stopped) retry = setTimeout(() => void connect(), delay);
        delay = Math.min(delay * 2, 10_000);
      }
    };
    void connect();
    return () => {
      stopped = true;
      clearTimeout(retry);
      socket?.close();
    };
  }, [runId]);
  return { lines, connected };
}

/** Cited log lines (sequence numbers, inclusive) or a cited step, from the run page's address. */
export interface LogHighlight {
  step?: string | undefined;
  lines?: { from: number; to: number } | undefined;
}

export function LogViewer({ lines, connected, steps, t, runId, highlight }: { lines: LogLine[]; connected: boolean; steps: string[]; t: Translate; runId: string; highlight?: LogHighlight | undefined }) {
  // Cited lines are shown among all lines (their context); a cited step alone filters to its lines.
  const [step, setStep] = useState(highlight?.step && !highlight.lines ? highlight.step : '');
  const [search, setSearch] = useState('');
  const [follow, setFollow] = useState(!highlight?.step && !highlight?.lines);
  const shown = useMemo(() => {
    const needle = search.toLowerCase();
    return lines.filter((line) => (!step || line.stepId === step) && (!needle || line.text.toLowerCase().includes(needle)));
  }, [lines, step, search]);
  const cited = (line: LogLine) => highlight?.lines !== undefined && line.seq >= highlight.lines.from && line.seq <= highlight.lines.to;
  const firstCited = highlight?.lines ? shown.findIndex(cited) : -1;
  const download = () => {
    const text = lines.map((line) => `${line.at} [${line.stepId}#${line.attempt} ${line.stream}] ${line.text}`).join('\n');
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
    link.download = `${runId}.log`;
    link.click();
    URL.revokeObjectURL(link.href);
  };
  return (
    <div className="log-viewer">
      <div className="log-toolbar">
        <span className={`status-light ${connected ? 'ok' : 'down'}`}>
          <span className="dot" aria-hidden="true" /> {connected ? t('logs.live') : t('logs.reconnecting')}
        </span>
        <label htmlFor="log-step">{t('logs.step')}</label>
        <select id="log-step" value={step} onChange={(event) => setStep(event.target.value)}>
          <option value="">{t('logs.allSteps')}</option>
          {steps.map((id) => (
            <option key={id} value={id}>
              {id}
            </option>
          ))}
        </select>
        <label htmlFor="log-search">{t('logs.search')}</label>
        <input id="log-search" type="search" value={search} onChange={(event) => setSearch(event.target.value)} />
        <label className="checkbox">
          <input type="checkbox" checked={follow} onChange={(event) => setFollow(event.target.checked)} /> {t('logs.follow')}
        </label>
        <button type="button" onClick={download}>
          {t('logs.download')}
        </button>
        <span className="muted" data-testid="log-count">
          {t('logs.count', { count: shown.length })}
        </span>
      </div>
      <VirtualList
        items={shown}
        rowHeight={20}
        maxHeight={360}
        follow={follow}
        scrollToIndex={firstCited >= 0 ? firstCited : undefined}
        label={t('logs.title')}
        className="log-lines mono"
        renderRow={(line) => (
          <span className={`log-line stream-${line.stream}${cited(line) ? ' cited' : ''}`} data-seq={line.seq}>
            <span className="log-step">{line.stepId}</span> {cited(line) ? <mark>{line.text}</mark> : line.text}
          </span>
        )}
      />
    </div>
  );
}
