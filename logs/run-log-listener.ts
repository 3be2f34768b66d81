// One LISTEN connection per API process: tells subscribers of a run that new
// log lines exist, whichever worker wrote them and whichever replica serves them.
import pg from 'pg';
import { reportIdleConnectionError } from '../db/pool-errors.js';
import { RUN_LOG_CHANNEL } from './run-log-store.js';

type Subscriber = (lastSeq: number) => void;

export class RunLogListener {
  private readonly subscribers = new Map<string, Set<Subscriber>>();
  private client: pg.Client | undefined;

  constructor(private readonly databaseUrl: string) {}

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl });
    client.on('error', reportIdleConnectionError);
    await client.connect();
    client.on('notification', (message) => {
      const separator = message.payload?.indexOf(':') ?? -1;
      if (!message.payload || separator < 0) return;
      const lastSeq = Number(message.payload.slice(0, separator));
      for (const subscriber of this.subscribers.get(message.payload.slice(separator + 1)) ?? []) subscriber(lastSeq);
    });
    await client.query(`LISTEN ${RUN_LOG_CHANNEL}`);
    this.client = client;
  }

  subscribe(runId: string, subscriber: Subscriber): () => void {
    const set = this.subscribers.get(runId) ?? new Set();
    set.add(subscriber);
    this.subscribers.set(runId, set);
    return () => {
      set.delete(subscriber);
      if (set.size === 0) this.subscribers.delete(runId);
    };
  }

  async stop(): Promise<void> {
    await this.client?.end();
    this.client = undefined;
  }
}
