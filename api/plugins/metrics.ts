// Prometheus metrics: requests and latencies per route, runs started, approvals.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ApiMetrics {
  registry: Registry;
  runsStarted: Counter<'runbook' | 'environment'>;
  approvals: Counter<'decision'>;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: ApiMetrics;
  }
}

export function createApiMetrics(): ApiMetrics & { requests: Counter<string>; latency: Histogram<string> } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'jarvis_api_' });
  return {
    registry,
    requests: new Counter({ name: 'jarvis_http_requests_total', help: 'HTTP requests', labelNames: ['method', 'route', 'status'], registers: [registry] }),
    latency: new Histogram({
      name: 'jarvis_http_request_duration_seconds',
      help: 'HTTP request latency',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    runsStarted: new Counter({ name: 'jarvis_runs_started_total', help: 'Runs started through the API', labelNames: ['runbook', 'environment'], registers: [registry] }),
    approvals: new Counter({ name: 'jarvis_approval_decisions_total', help: 'Approval decisions sent', labelNames: ['decision'], registers: [registry] }),
  };
}

export default fp(
  async (app: FastifyInstance) => {
    const metrics = createApiMetrics();
    app.decorate('metrics', metrics);
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unknown';
      metrics.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
      metrics.latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    });
    app.get('/metrics', async (_request, reply) =>
      reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
    );
  },
  { name: 'metrics' },
);
