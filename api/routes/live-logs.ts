// Live logs over WebSocket: `POST /runs/:id/log-ticket`, then
// `WS /ws/runs/:id?ticket=...&after=SEQ`. The socket first sends the lines
// after SEQ (all of them on a first connect), then live ones, and the run's
// step progress when it changes; a client that reconnects with the last
// sequence number it saw loses nothing and gets nothing twice. `{type:
// 'status', readable}` tells when the log cannot be read for a while and when
// it can again.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import type { RunLogListener } from '../../logs/run-log-listener.js';
import type { RunLogStore } from '../../logs/run-log-store.js';
import type { RunService } from '../../runs/run-service.js';
import type { LogTickets } from '../../security/tokens.js';
import { requirePermission } from '../guards.js';
import { admitSocket } from '../socket-admission.js';
import { principalOf } from '../plugins/auth.js';
import { problemResponses, RunIdParams } from '../schemas.js';

export interface LiveLogOptions {
  runs: RunService;
  store: RunLogStore;
  listener: RunLogListener;
  tickets: LogTickets;
  allowedOrigins: string[];
}

const PROGRESS_EVERY_MS = 1_000;

/**
 * Streams one run's log to one socket; sends are serialized so lines stay in
 * order and unique. A failed read (the database away for a moment) is logged,
 * told to the client once, and tried again on the next tick: the stream goes
 * on from the last line sent, so nothing is lost or doubled and no rejection
 * is left unhandled.
 */
class RunLogStream {
  private sentSeq: number;
  private sending: Promise<void> = Promise.resolve();
  private lastProgress = '';
  private readFailing = false;

  constructor(
    private readonly socket: WebSocket,
    private readonly runId: string,
    afterSeq: number,
    private readonly options: LiveLogOptions,
    private readonly log: FastifyBaseLogger,
  ) {
    this.sentSeq = afterSeq;
  }

  catchUp(): Promise<void> {
    this.sending = this.sending.then(() => this.sendStoredLines()).catch((error: unknown) => this.readFailed(error));
    return this.sending;
  }

  /** Called every tick: a read that failed is tried again. */
  retryIfFailing(): void {
    if (this.readFailing) void this.catchUp();
  }

  private async sendStoredLines(): Promise<void> {
    for (;;) {
      const lines = await this.options.store.linesAfter(this.runId, this.sentSeq);
      if (this.readFailing && this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify({ type: 'status', readable: true }));
      this.readFailing = false;
      if (lines.length === 0 || this.socket.readyState !== this.socket.OPEN) return;
      this.socket.send(JSON.stringify({ type: 'lines', lines }));
      this.sentSeq = lines[lines.length - 1]!.seq;
    }
  }

  private readFailed(error: unknown): void {
    if (!this.readFailing) {
      this.log.warn({ err: error, runId: this.runId, afterSeq: this.sentSeq }, 'could not read the run log for a live socket; retrying');
      if (this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify({ type: 'status', readable: false }));
    }
    this.readFailing = true;
  }

  async sendProgressIfChanged(): Promise<void> {
    // A failed read sends nothing: the client keeps what it was last told, and the next tick asks again.
    const details = await this.options.runs.showRun(this.runId).catch(() => undefined);
    if (!details) return;
    const progress = JSON.stringify({ type: 'progress', status: details?.status, progress: details?.progress });
    if (progress !== this.lastProgress && this.socket.readyState === this.socket.OPEN) {
      this.lastProgress = progress;
      this.socket.send(progress);
    }
  }
}

export const liveLogRoutes: FastifyPluginAsyncTypebox<LiveLogOptions> = async (app, options) => {

  app.post(
    '/runs/:id/log-ticket',
    {
      schema: {
        tags: ['runs'],
        summary: "A one-minute ticket to open the run's live log socket",
        params: RunIdParams,
        response: { 201: Type.Object({ ticket: Type.String(), expiresAt: Type.String(), url: Type.String() }), ...problemResponses },
      },
    },
    async (request, reply) => {
      requirePermission(request, 'read', await options.runs.runEnvironment(request.params.id));
      const { ticket, expiresAt } = await options.tickets.issue(principalOf(request).id, request.params.id);
      return reply.code(201).send({ ticket, expiresAt: expiresAt.toISOString(), url: `/ws/runs/${encodeURIComponent(request.params.id)}?ticket=${ticket}` });
    },
  );

  app.get(
    '/ws/runs/:id',
    {
      websocket: true,
      // Authenticated by its ticket, not a bearer header (browsers cannot send one on a WebSocket).
      config: { public: true },
      schema: {
        params: RunIdParams,
        querystring: Type.Object({ ticket: Type.String({ minLength: 10, maxLength: 2_000 }), after: Type.Optional(Type.Integer({ minimum: 0, default: 0 })) }),
      },
    },
    async (socket, request) => {
      if (!(await admitSocket(socket, request, { allowedOrigins: options.allowedOrigins, tickets: options.tickets, ticket: request.query.ticket, subject: request.params.id }))) return;
      const stream = new RunLogStream(socket, request.params.id, request.query.after ?? 0, options, request.log);
      const unsubscribe = options.listener.subscribe(request.params.id, () => void stream.catchUp());
      const progressTimer = setInterval(() => {
        stream.retryIfFailing();
        void stream.sendProgressIfChanged();
      }, PROGRESS_EVERY_MS);
      socket.on('close', () => {
        unsubscribe();
        clearInterval(progressTimer);
      });
      await stream.catchUp();
      await stream.sendProgressIfChanged();
    },
  );
};
