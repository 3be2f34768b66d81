// Whose turn it is on the embedded database's single backend, and which
// connections listen on which notification channel (see embedded-wire-server.ts).

/** What the turns need to know of a connection to say who holds the backend. */
export interface Session {
  readonly id: number;
  describeState(): string;
}

/** Whose turn it is on the backend, and who waits for it, first come first served. */
export class Turns<Connection extends Session> {
  holder: Connection | undefined;
  heldSince = 0;
  private waiting: Array<{ connection: Connection; granted(): void; refused(error: Error): void }> = [];

  take(connection: Connection, timeoutMs: number): Promise<void> {
    if (this.holder === connection) return Promise.resolve();
    if (!this.holder) {
      this.hand(connection);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = this.waiting.filter((entry) => entry !== waiter);
        reject(new WaitTimeout(this.describeHolder(timeoutMs)));
      }, timeoutMs);
      const waiter = {
        connection,
        granted: () => { clearTimeout(timer); resolve(); },
        refused: (error: Error) => { clearTimeout(timer); reject(error); },
      };
      this.waiting.push(waiter);
    });
  }

  stopWaiting(connection: Connection): void {
    for (const waiter of this.waiting.filter((entry) => entry.connection === connection)) waiter.refused(new Error('connection closed'));
    this.waiting = this.waiting.filter((entry) => entry.connection !== connection);
  }

  /** Gives the turn back (or leaves the queue) and hands it to the next connection. */
  leave(connection: Connection): void {
    this.stopWaiting(connection);
    if (this.holder !== connection) return;
    this.holder = undefined;
    const next = this.waiting.shift();
    if (next) {
      this.hand(next.connection);
      next.granted();
    }
  }

  private hand(connection: Connection): void {
    this.holder = connection;
    this.heldSince = Date.now();
  }

  private describeHolder(waitedMs: number): string {
    const holder = this.holder;
    const held = holder ? `connection #${holder.id} has held it for ${seconds(Date.now() - this.heldSince)} (${holder.describeState()})` : 'it was busy';
    return `the embedded database stayed busy for ${seconds(waitedMs)}: ${held}. PGlite is a single backend, so connections take turns; set DATABASE_URL to use PostgreSQL under heavy load`;
  }
}

/** A connection waited past the bound; the message names the holder. */
export class WaitTimeout extends Error {}

/** Who listens on which channel: PGlite's backend hears them all, and each notification goes to its listeners. */
export class Channels<Connection> {
  private readonly listeners = new Map<string, Set<Connection>>();

  listen(connection: Connection, channel: string): void {
    const set = this.listeners.get(channel) ?? new Set();
    set.add(connection);
    this.listeners.set(channel, set);
  }

  /** Returns the channels others still listen on: the backend must go on listening there. */
  unlisten(connection: Connection, channel: string): string[] {
    const still: string[] = [];
    for (const [name, set] of this.listeners) {
      if (channel !== '*' && name !== channel) continue;
      set.delete(connection);
      if (set.size > 0) still.push(name);
      else this.listeners.delete(name);
    }
    return still;
  }

  listenersOf(channel: string): ReadonlySet<Connection> {
    return this.listeners.get(channel) ?? new Set();
  }
}

export function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}
