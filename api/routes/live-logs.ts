// Live logs over WebSocket: `POST /runs/:id/log-ticket`, then
// `WS /ws/runs/:id?ticket=...&after=SEQ`. The socket first sends the lines
// after SEQ (all of them on a first connect), then live ones, and the run's
// step progress when it changes; a client that reconnects with the last
// sequence number it saw loses nothing and gets nothing twice.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
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

/** Streams one run's log to one socket; sends are serialized so lines stay in order and unique. */
class RunLogStream {
  private sentSeq: number;
  private sending: Promise<void> = Promise.resolve();
  private lastProgress = '';

  constructor(
    private readonly socket: WebSocket,
    private readonly runId: string,
    afterSeq: number,
    private readonly options: LiveLogOptions,
  ) {
    this.sentSeq = afterSeq;
  }

  catchUp(): Promise<void> {
    this.sending = this.sending.then(async () => {
      for (;;) {
        const lines = await this.options.store.linesAfter(this.runId, this.sentSeq);
        if (lines.length === 0 || this.socket.readyState !== this.socket.OPEN) return;
        this.socket.send(JSON.stringify({ type: 'lines', lines }));
        this.sentSeq = lines[lines.length - 1]!.seq;
      }
    });
    return this.sending;
  }

  async sendProgressIfChanged(): Promise<void> {
    const details = await this.options.runs.showRun(this.runId).catch(() => undefined);
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
      const stream = new RunLogStream(socket, request.params.id, request.query.after ?? 0, options);
      const unsubscribe = options.listener.subscribe(request.params.id, () => void stream.catchUp());
      const progressTimer = setInterval(() => void stream.sendProgressIfChanged(), PROGRESS_EVERY_MS);
      socket.on('close', () => {
        unsubscribe();
        clearInterval(progressTimer);
      });
      await stream.catchUp();
      await stream.sendProgressIfChanged();
    },
  );
};
