// Serves one PGlite to many Postgres wire-protocol connections. PGlite is a
// single backend: if the messages of two connections interleave, one replaces
// the other's unnamed prepared statement between Parse and Bind, swallows its
// messages after an error, or runs its statements inside the other's
// transaction. So a connection takes its turn at its first message and keeps
// the database until PGlite answers ReadyForQuery with status idle ('I');
// the others wait in arrival order. Waiting and holding are both bounded, and
// the connection that overstays is told why.
import type { PGlite } from '@electric-sql/pglite';
import { timingSafeEqual } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import {
  CANCEL_REQUEST, closeStatement, fatalError, isStartup, lastReadyStatus, listenCommand, renameStatements, simpleQuery, splitMessages, SYNC,
  takeNotifications, type TransactionStatus,
} from './wire-messages.js';
import { Channels, seconds, Turns, WaitTimeout } from './embedded-turns.js';

export interface EmbeddedWireServerOptions {
  db: PGlite;
  host: string;
  port: number;
  /** How long a connection may keep the database while its client is silent (inside a transaction, or between Parse and Sync). */
  holdTimeoutMs?: number;
  /** How long a connection may wait for its turn before it is refused. */
  waitTimeoutMs?: number;
  /**
   * The password a client must give before its startup reaches PGlite (which
   * checks none): without it, any local process (an action's, running as
   * another user) could connect on 127.0.0.1 and rewrite users and grants.
   */
  password?: string;
}

/** AuthenticationCleartextPassword: the client answers with a PasswordMessage ('p'). */
const ASK_FOR_PASSWORD = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3]);

/** Whether a PasswordMessage ('p', length, the password and a NUL) carries `expected`. */
function passwordMatches(message: Buffer, expected: string): boolean {
  if (message[0] !== 0x70 /* p */ || message.length < 6) return false;
  const given = message.subarray(5, message.length - 1);
  const wanted = Buffer.from(expected, 'utf8');
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

// Longer than any transaction Jarvis keeps open while it talks to something else,
// short enough that a stuck client shows up as an error rather than a hang.
export const DEFAULT_HOLD_TIMEOUT_MS = 30_000;
export const DEFAULT_WAIT_TIMEOUT_MS = 60_000;
/** Waits and statements longer than this are logged: the embedded database is then the bottleneck. */
const SLOW_MS = 2_000;

class WireConnection {
  private input = Buffer.alloc(0);
  private typed = false;
  private started = false;
  /** The startup message, held until the client has given the password. */
  private unauthenticated: Buffer | undefined;
  private readonly pending: Buffer[] = [];
  private draining: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private holdTimer: NodeJS.Timeout | undefined;
  /** The status of PGlite's last ReadyForQuery to this connection, undefined while an exchange is unfinished. */
  private status: TransactionStatus | undefined = 'I';
  private readonly statements = new Set<string>();

  constructor(
    readonly id: number,
    private readonly socket: Socket,
    private readonly db: PGlite,
    private readonly turns: Turns<WireConnection>,
    private readonly channels: Channels<WireConnection>,
    private readonly limits: { holdTimeoutMs: number; waitTimeoutMs: number },
    private readonly password: string | undefined,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.receive(chunk));
    // A client that goes away (ECONNRESET included) ends its session like a backend would.
    socket.on('error', () => void this.close());
    socket.on('close', () => void this.close());
  }

  describeState(): string {
    if (this.status === 'T') return 'idle in a transaction';
    if (this.status === 'E') return 'idle in a failed transaction';
    return this.pending.length > 0 || this.draining ? 'running a statement' : 'between Parse and Sync';
  }

  private receive(chunk: Buffer): void {
    const split = splitMessages(Buffer.concat([this.input, chunk]), this.typed);
    this.input = Buffer.from(split.rest);
    this.typed = split.typed;
    this.pending.push(...split.messages.map((message) => Buffer.from(message)));
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  private async drain(): Promise<void> {
    clearTimeout(this.holdTimer);
    try {
      for (let message = this.pending.shift(); message && !this.closing; message = this.pending.shift()) {
        await this.handle(message);
      }
    } catch (error) {
      const text = error instanceof WaitTimeout ? error.message : `embedded database: ${(error as Error).message}`;
      this.fail(error instanceof WaitTimeout ? '55P03' : 'XX000', text);
      return;
    }
    if (!this.closing && this.turns.holder === this) {
      this.holdTimer = setTimeout(() => {
        this.fail('25P03', `terminating connection: it held the embedded database for over ${seconds(this.limits.holdTimeoutMs)} while ${this.describeState()}; its transaction was rolled back so that other connections can proceed`);
      }, this.limits.holdTimeoutMs);
    }
  }

  private async handle(message: Buffer): Promise<void> {
    let statement: { message: Buffer; prepared?: string; closed?: string } = { message };
    if (!this.started) {
      if (!isStartup(message)) {
        // SSL or GSS encryption request: not offered, the client goes on in plain text.
        // A CancelRequest has no backend process to signal here.
        if (message.readInt32BE(4) === CANCEL_REQUEST) void this.close();
        else this.socket.write('N');
        return;
      }
      this.started = true;
      if (this.password !== undefined) {
        this.unauthenticated = message;
        this.socket.write(ASK_FOR_PASSWORD);
        return;
      }
    } else if (this.unauthenticated) {
      if (!passwordMatches(message, this.password!)) {
        this.fail('28P01', 'password authentication failed for the embedded database');
        return;
      }
      statement = { message: this.unauthenticated };
      this.unauthenticated = undefined;
    } else if (message[0] === 0x58 /* X: Terminate */) {
      // Not awaited: closing waits for this drain to end.
      void this.close();
      return;
    } else {
      statement = renameStatements(message, `c${this.id}_`);
    }
    const waitStart = Date.now();
    await this.turns.take(this, this.limits.waitTimeoutMs);
    const runStart = Date.now();
    const { rest: output, notifications } = takeNotifications(await this.execute(statement.message));
    if (runStart - waitStart > SLOW_MS || Date.now() - runStart > SLOW_MS) {
      console.warn(`[jarvis] embedded database: connection #${this.id} waited ${seconds(runStart - waitStart)} for its turn and ran a '${String.fromCharCode(message[0]!)}' message for ${seconds(Date.now() - runStart)}`);
    }
    if (statement.prepared) this.statements.add(statement.prepared);
    if (statement.closed) this.statements.delete(statement.closed);
    await this.followListen(message);
    for (const { channel, message: notification } of notifications) {
      for (const listener of this.channels.listenersOf(channel)) listener.deliver(notification);
    }
    if (this.closing) return;
    if (output.length > 0) this.socket.write(output);
    // No ReadyForQuery yet: the exchange goes on (Parse, Bind... until Sync), so the turn is kept.
    this.status = lastReadyStatus(output);
    if (this.status === 'I') this.turns.leave(this);
  }

  /** A notification raised by any connection's statement, for this connection's LISTEN. */
  deliver(notification: Buffer): void {
    if (!this.closing && this.socket.writable) this.socket.write(notification);
  }

  private async followListen(message: Buffer): Promise<void> {
    const command = listenCommand(message);
    if (!command) return;
    if ('listen' in command) {
      this.channels.listen(this, command.listen);
      return;
    }
    // The backend stopped listening for everyone: it listens again where others still do.
    for (const channel of this.channels.unlisten(this, command.unlisten)) {
      await this.execute(simpleQuery(`LISTEN "${channel.replaceAll('"', '""')}"`));
    }
  }

  private async execute(message: Buffer): Promise<Buffer> {
    const chunks: Buffer[] = [];
    await this.db.runExclusive(() => this.db.execProtocolRawStream(message, { onRawData: (data) => chunks.push(Buffer.from(data)) }));
    return Buffer.concat(chunks);
  }

  private fail(code: string, text: string): void {
    if (this.closing) return;
    if (this.socket.writable) this.socket.write(fatalError(code, text));
    void this.close();
  }

  /** Ends the session: anything it left open on the shared backend is undone before the next connection's turn. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearTimeout(this.holdTimer);
      // end() lets a FATAL error just written reach the client first.
      if (!this.socket.destroyed) this.socket.end(() => this.socket.destroy());
      this.pending.length = 0;
      this.turns.stopWaiting(this);
      this.channels.unlisten(this, '*');
      await this.draining;
      try {
        await this.resetSession();
      } catch (error) {
        console.warn(`[jarvis] embedded database: could not reset the session of a closed connection: ${(error as Error).message}`);
      } finally {
        this.turns.leave(this);
      }
    })();
    return this.closing;
  }

  private async resetSession(): Promise<void> {
    const holding = this.turns.holder === this;
    if (!holding && this.statements.size === 0) return;
    if (!holding) await this.turns.take(this, this.limits.waitTimeoutMs);
    await this.db.runExclusive(async () => {
      // Sync ends an unfinished extended-protocol exchange; a transaction left open is rolled back.
      await this.db.execProtocolRaw(SYNC);
      if (this.db.isInTransaction()) await this.db.execProtocolRaw(simpleQuery('ROLLBACK'));
      for (const name of this.statements) await this.db.execProtocolRaw(Buffer.concat([closeStatement(name), SYNC]));
    });
    this.statements.clear();
  }
}

export class EmbeddedWireServer {
  private readonly connections = new Set<WireConnection>();
  private readonly turns = new Turns<WireConnection>();
  private readonly channels = new Channels<WireConnection>();
  private nextId = 1;

  private constructor(private readonly server: Server, readonly port: number) {}

  static async start(options: EmbeddedWireServerOptions): Promise<EmbeddedWireServer> {
    const limits = {
      holdTimeoutMs: options.holdTimeoutMs ?? DEFAULT_HOLD_TIMEOUT_MS,
      waitTimeoutMs: options.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS,
    };
    await options.db.waitReady;
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => resolve());
    });
    const address = server.address();
    const wire = new EmbeddedWireServer(server, typeof address === 'object' && address ? address.port : options.port);
    server.on('connection', (socket) => {
      const connection = new WireConnection(wire.nextId++, socket, options.db, wire.turns, wire.channels, limits, options.password);
      wire.connections.add(connection);
      socket.once('close', () => wire.connections.delete(connection));
    });
    return wire;
  }

  /** Stops accepting, ends every session (rolling back what they left open) and resolves once the backend is free. */
  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.all([...this.connections].map((connection) => connection.close()));
    await closed;
  }
}
