// Every state-changing request leaves an audit entry (actor, action, target,
// IP, user agent, outcome), whatever its route and whether it succeeded.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { AuditService } from '../services/audit-service.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by routes to name the target and add details; the hook fills the rest. */
    auditTarget?: { type: string; id?: string; details?: Record<string, unknown> };
  }
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function auditTarget(request: FastifyRequest, type: string, id?: string, details?: Record<string, unknown>): void {
  request.auditTarget = { type, ...(id ? { id } : {}), ...(details ? { details } : {}) };
}

export default fp(
  async (app: FastifyInstance, options: { audit: AuditService }) => {
    app.decorateRequest('auditTarget', undefined);
    // onSend, not onResponse: the entry is stored before the client gets its answer.
    app.addHook('onSend', async (request, reply, payload) => {
      if (READ_METHODS.has(request.method)) return payload;
      const status = reply.statusCode;
      const route = request.routeOptions.url ?? request.url.split('?')[0] ?? '';
      const body = request.body as { email?: unknown } | undefined;
      try {
        await options.audit.record({
          actorId: request.principal?.id,
          actorEmail: request.principal?.email ?? (typeof body?.email === 'string' ? body.email.slice(0, 200) : undefined),
          action: `${request.method} ${route}`,
          targetType: request.auditTarget?.type ?? route.split('/')[1] ?? 'api',
          targetId: request.auditTarget?.id ?? (request.params as { id?: string; name?: string } | undefined)?.id ?? (request.params as { name?: string } | undefined)?.name,
          ip: request.ip,
          userAgent: request.headers['user-agent']?.slice(0, 500),
          outcome: status < 400 ? 'success' : status === 401 || status === 403 ? 'denied' : 'failure',
          details: { status, ...request.auditTarget?.details },
        });
      } catch (error) {
        request.log.error({ err: error }, 'could not write the audit entry');
      }
      return payload;
    });
  },
  { name: 'audit' },
);
