// Every state-changing request leaves an audit entry (actor, action, target,
// IP, user agent, outcome), whatever its route and whether it succeeded.
//
// Nothing is done unaudited. The entry cannot share a transaction with the
// change: most changes happen in Temporal, Docker, git or a remote host, not
// in this database. So it is written in two steps: opened (outcome
// "pending") before the route acts, where a failed write refuses the request
// with a 5xx before anything changed; then completed with the outcome before
// the answer leaves, where a failed write turns the answer into a 5xx (the
// change happened and stays audited as pending, so it is never silent).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { randomUUID } from 'node:crypto';
import type { AuditRecord, AuditService } from '../services/audit-service.js';
import { problemOf } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by routes to name the target and add details; the hook fills the rest. */
    auditTarget?: { type: string; id?: string; details?: Record<string, unknown> };
    /** The pending entry opened before the route ran; `false` when it could not be written. */
    auditEntry?: bigint | false;
  }
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function auditTarget(request: FastifyRequest, type: string, id?: string, details?: Record<string, unknown>): void {
  request.auditTarget = { type, ...(id ? { id } : {}), ...(details ? { details } : {}) };
}

/** The entry as far as the request and its answer tell; `reply` absent while the route has not run yet. */
function entryOf(request: FastifyRequest, reply?: FastifyReply): Omit<AuditRecord, 'outcome'> & { outcome?: AuditRecord['outcome'] } {
  const route = request.routeOptions.url ?? request.url.split('?')[0] ?? '';
  const body = request.body as { email?: unknown } | undefined;
  const params = request.params as { id?: string; name?: string } | undefined;
  const status = reply?.statusCode;
  return {
    actorId: request.principal?.id,
    actorEmail: request.principal?.email ?? (typeof body?.email === 'string' ? body.email.slice(0, 200) : undefined),
    action: `${request.method} ${route}`,
    targetType: request.auditTarget?.type ?? route.split('/')[1] ?? 'api',
    targetId: request.auditTarget?.id ?? params?.id ?? params?.name,
    ip: request.ip,
    userAgent: request.headers['user-agent']?.slice(0, 500),
    ...(status === undefined ? {} : { outcome: status < 400 ? 'success' : status === 401 || status === 403 ? 'denied' : 'failure' }),
    details: { ...(status === undefined ? {} : { status }), ...request.auditTarget?.details },
  };
}

export default fp(
  async (app: FastifyInstance, options: { audit: AuditService }) => {
    app.decorateRequest('auditTarget', undefined);
    app.decorateRequest('auditEntry', undefined);

    app.addHook('preHandler', async (request) => {
      if (READ_METHODS.has(request.method)) return;
      try {
        request.auditEntry = await options.audit.open(entryOf(request));
      } catch (error) {
        request.auditEntry = false;
        // The error handler answers 500 with a logged reference; the route never runs.
        throw new Error('the audit entry could not be written, so the request was refused', { cause: error });
      }
    });

    // onSend, not onResponse: the entry is complete before the client gets its answer.
    app.addHook('onSend', async (request, reply, payload) => {
      if (READ_METHODS.has(request.method) || request.auditEntry === false) return payload;
      const entry = entryOf(request, reply);
      const outcome = entry.outcome ?? 'failure';
      try {
        if (request.auditEntry === undefined) await options.audit.record({ ...entry, outcome });
        else await options.audit.complete(request.auditEntry, { ...entry, outcome });
      } catch (error) {
        const reference = randomUUID();
        request.log.error({ err: error, reference, auditEntry: request.auditEntry?.toString(), answered: reply.statusCode }, 'could not write the audit entry');
        if (reply.statusCode >= 500) return payload;
        reply.code(500).type('application/problem+json');
        reply.removeHeader('content-length');
        return JSON.stringify(problemOf(request.url, 500, `the request failed on the server (its audit entry could not be completed); reference ${reference}`));
      }
      return payload;
    });
  },
  { name: 'audit' },
);
