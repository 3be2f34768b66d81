// One LISTEN connection per API process: tells subscribers of a run that new
// log lines exist, whichever worker wrote them and whichever replica serves them.
// When the connection drops (a database restart, a failover), it reconnects
// with backoff and then tells every subscriber to catch up, so lines written
// while it was away are not lost.
import pg from 'pg';
import { reportIdleConnectionError } from '../db/pool-errors.js';
import { RUN_LOG_CHANNEL } from './run-log-store.js';

/** Called with the run's last sequence number, or with undefined after a reconnect (catch up from where you are). */
type Subscriber = (lastSeq: number | undefined) => void;

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;
export const LISTENER_APPLICATION_NAME = 'jarvis-log-listener';

export class RunLogListener {
  private readonly subscribers = new Map<string, Set<Subscriber>>();
  private client: pg.Client | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** How many times the connection was re-established (for /metrics and tests). */
  reconnects = 0;

  constructor(private readonly databaseUrl: string) {}

  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl, application_name: LISTENER_APPLICATION_NAME });
    client.on('error', (error) => {
      reportIdleConnectionError(error);
      this.connectionLost(client);
    });
    client.on('end', () => this.connectionLost(client));
    client.on('notification', (message) => {
      const separator = message.payload?.indexOf(':') ?? -1;
      if (!message.payload || separator < 0) return;
      const lastSeq = Number(message.payload.slice(0, separator));
      for (const subscriber of this.subscribers.get(message.payload.slice(separator + 1)) ?? []) subscriber(lastSeq);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${RUN_LOG_CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    this.client = client;
  }

  private connectionLost(client: pg.Client): void {
    if (this.stopped || client !== this.client) return;
    this.client = undefined;
    void client.end().catch(() => undefined);
    this.retry(FIRST_RETRY_MS);
  }

  private retry(delayMs: number): void {
    this.retryTimer = setTimeout(() => {
      this.connect().then(
        () => {
          this.reconnects += 1;
          console.warn(`[jarvis] live log listener reconnected to the database`);
          for (const set of this.subscribers.values()) for (const subscriber of set) subscriber(undefined);
        },
        (error: Error) => {
          if (this.stopped) return;
          console.warn(`[jarvis] live log listener cannot reach the database (${error.message}); retrying`);
          this.retry(Math.min(delayMs * 2, MAX_RETRY_MS));
        },
      );
    }, delayMs);
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
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end();
  }
}
