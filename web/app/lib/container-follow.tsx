// Follows a container live: its output lines and CPU / memory, over the API's socket.
import { useEffect, useState } from 'react';
import type { Translate } from '../i18n/index.js';
import { VirtualList } from './virtual-list.js';

interface Stats {
  cpuPercent: number;
  memoryBytes: number;
  memoryLimit: number;
}

const MAX_LINES = 5_000;

export function ContainerFollow({ container, environment, endpoint, t }: { container: string; environment: string; endpoint: string; t: Translate }) {
  const [lines, setLines] = useState<Array<{ stream: string; text: string }>>([]);
  const [stats, setStats] = useState<Stats | undefined>();
  const [state, setState] = useState<'connecting' | 'live' | 'closed'>('connecting');
  useEffect(() => {
    let socket: WebSocket | undefined;
    let stopped = false;
    void (async () => {
      const form = new FormData();
      form.set('environment', environment);
      form.set('endpoint', endpoint);
      const response = await fetch(`/containers/${encodeURIComponent(container)}/follow-ticket`, { method: 'POST', body: form });
      if (!response.ok || stopped) return setState('closed');
      const { url } = (await response.json()) as { url: string };
      socket = new WebSocket(url);
      socket.onopen = () => setState('live');
      socket.onclose = () => setState('closed');
      socket.onmessage = (event) => {
        const message = JSON.parse(String(event.data)) as { type: string; lines?: Array<{ stream: string; text: string }> } & Partial<Stats>;
        if (message.type === 'lines' && message.lines) setLines((current) => current.concat(message.lines!).slice(-MAX_LINES));
        if (message.type === 'stats') setStats({ cpuPercent: message.cpuPercent ?? 0, memoryBytes: message.memoryBytes ?? 0, memoryLimit: message.memoryLimit ?? 0 });
      };
    })();
    return () => {
      stopped = true;
      socket?.close();
    };
  }, [container, environment, endpoint]);
  const mebibytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return (
    <section aria-labelledby="container-follow">
      <h2 id="container-follow">{t('containers.following', { name: container })}</h2>
      <p className="log-toolbar">
        <span className={`status-light ${state === 'live' ? 'ok' : 'down'}`}>
          <span className="dot" aria-hidden="true" /> {state === 'live' ? t('logs.live') : state === 'connecting' ? t('containers.connecting') : t('containers.disconnected')}
        </span>
        {stats ? (
          <span data-testid="container-stats">
            {t('containers.stats', { cpu: stats.cpuPercent.toFixed(1), memory: mebibytes(stats.memoryBytes), limit: mebibytes(stats.memoryLimit) })}
          </span>
        ) : null}
      </p>
      <VirtualList
        items={lines}
        rowHeight={20}
        maxHeight={360}
        follow
        label={t('containers.following', { name: container })}
        className="log-lines mono"
        renderRow={(line) => <span className={`log-line stream-${line.stream}`}>{line.text}</span>}
      />
    </section>
  );
}
