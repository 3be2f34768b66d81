// Containers of a Docker endpoint (a `docker` connection): listed grouped by
// Compose project or Swarm stack, their logs read, and restarted, stopped or
// started through a short run of the built-in container runbooks, so every
// action is recorded, audited and, in prod, approved.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import path from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { PROJECT_ROOT } from '../../config/env.js';
import { demultiplexLogs, EndpointError, listContainers, openDockerEndpoint } from '../../infra/docker-endpoint.js';
import { listStacks } from '../../infra/swarm-stack.js';
import { actionCatalog } from '../../activities/catalog.js';
import { RunbookCatalog } from '../../manifest/catalog.js';
import { JarvisProblem } from '../../manifest/errors.js';
import type { RunService } from '../../runs/run-service.js';
import { requirePermission } from '../guards.js';
import { admitSocket } from '../socket-admission.js';
import { auditTarget } from '../plugins/audit.js';
import { principalOf } from '../plugins/auth.js';
import { problemResponses } from '../schemas.js';
import type { LogTickets } from '../../security/tokens.js';
import type { ConnectionService } from '../services/connection-service.js';

const Endpoint = Type.Object({
  environment: Type.String({ minLength: 1, maxLength: 63 }),
  endpoint: Type.String({ minLength: 1, maxLength: 100, description: 'The name of a docker connection in that environment' }),
});
const ContainerParams = Type.Object({ container: Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' }) });
const VERBS = ['restart', 'stop', 'start'] as const;

/** Docker's own failures (unreachable engine, unknown container) as answers the caller can act on. */
function dockerProblem(error: unknown, what: string): never {
  const status = (error as { statusCode?: number }).statusCode;
  if (status === 404) throw new JarvisProblem(`no ${what} on this endpoint`, 'not-found');
  const code = (error as { code?: string }).code;
  throw new JarvisProblem(`the Docker endpoint cannot be reached or refused the call${code ? ` (${code})` : ''}: ${(error as Error).message}`, 'unavailable');
}

export interface ContainerRouteOptions {
  runs: RunService;
  connections: ConnectionService;
  tickets: LogTickets;
  allowedOrigins: string[];
}

const FOLLOW_BATCH_MS = 100;

/** What a ticket for following a container is bound to. */
const followSubject = (environment: string, endpoint: string, container: string) => `container:${environment}:${endpoint}:${container}`;

/** Splits a byte stream into lines, keeping a partial last line for the next chunk. */
function lineSplitter(onLine: (text: string) => void) {
  let pending = '';
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      const parts = (pending + chunk.toString('utf8')).split('\n');
      pending = parts.pop() ?? '';
      for (const part of parts) onLine(part.replace(/\r$/, ''));
      done();
    },
  });
}

interface DockerStats {
  cpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number };
}

/** CPU percent as `docker stats` computes it, from one sample and the one before it. */
export function cpuPercent(stats: DockerStats): number {
  const cpu = (stats.cpu_stats?.cpu_usage?.total_usage ?? 0) - (stats.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const system = (stats.cpu_stats?.system_cpu_usage ?? 0) - (stats.precpu_stats?.system_cpu_usage ?? 0);
  return system > 0 && cpu >= 0 ? (cpu / system) * (stats.cpu_stats?.online_cpus ?? 1) * 100 : 0;
}

export const containerRoutes: FastifyPluginAsyncTypebox<ContainerRouteOptions> = async (app, { runs, connections, tickets, allowedOrigins }) => {
  // The container runbooks ship with Jarvis: they do not depend on the configured catalog folder.
  const builtins = await RunbookCatalog.fromDirectory(path.join(PROJECT_ROOT, 'runbooks'), actionCatalog);

  async function endpointFor(environment: string, endpoint: string) {
    const connection = await connections.resolve(environment, endpoint);
    try {
      return openDockerEndpoint(connection);
    } catch (error) {
      if (error instanceof EndpointError) throw new JarvisProblem(error.message, 'invalid');
      throw error;
    }
  }

  app.get(
    '/containers',
    {
      schema: {
        tags: ['containers'],
        summary: 'Containers of a Docker endpoint, grouped by Swarm stack or Compose project',
        querystring: Endpoint,
        response: { 200: Type.Array(Type.Object({ group: Type.String(), containers: Type.Array(Type.Object({}, { additionalProperties: true })) })), ...problemResponses },
      },
    },
    async (request) => {
      requirePermission(request, 'read', request.query.environment);
      const docker = await endpointFor(request.query.environment, request.query.endpoint);
      return listContainers(docker).catch((error: unknown) => dockerProblem(error, 'containers'));
    },
  );

  app.get(
    '/stacks',
    {
      schema: {
        tags: ['containers'],
        summary: 'Swarm stacks of a Docker endpoint with their services, replicas and update state (deploy and remove are the deploy-stack and remove-stack runbooks)',
        querystring: Endpoint,
        response: { 200: Type.Array(Type.Object({ name: Type.String(), services: Type.Array(Type.Object({}, { additionalProperties: true })) })), ...problemResponses },
      },
    },
    async (request) => {
      requirePermission(request, 'read', request.query.environment);
      const docker = await endpointFor(request.query.environment, request.query.endpoint);
      return listStacks(docker).catch((error: unknown) => dockerProblem(error, 'stacks'));
    },
  );

  app.get(
    '/containers/:container/logs',
    {
      schema: {
        tags: ['containers'],
        summary: "The last lines of a container's output",
        params: ContainerParams,
        querystring: Type.Intersect([Endpoint, Type.Object({ tail: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 200 })) })]),
        response: { 200: Type.Object({ lines: Type.Array(Type.Object({ stream: Type.String(), text: Type.String() })) }), ...problemResponses },
      },
    },
    async (request) => {
      requirePermission(request, 'read', request.query.environment);
      const docker = await endpointFor(request.query.environment, request.query.endpoint);
      const buffer = await docker
        .getContainer(request.params.container)
        .logs({ stdout: true, stderr: true, tail: request.query.tail ?? 200, follow: false })
        .catch((error: unknown) => dockerProblem(error, `container "${request.params.container}"`));
      return { lines: demultiplexLogs(buffer as unknown as Buffer) };
    },
  );

  app.post(
    '/containers/:container/log-ticket',
    {
      schema: {
        tags: ['containers'],
        summary: "A one-minute ticket to follow a container's output and stats over WS /ws/containers/:container",
        params: ContainerParams,
        body: Type.Object(Endpoint.properties, { additionalProperties: false }),
        response: { 201: Type.Object({ ticket: Type.String(), expiresAt: Type.String(), url: Type.String() }), ...problemResponses },
      },
    },
    async (request, reply) => {
      const { environment, endpoint } = request.body;
      requirePermission(request, 'read', environment);
      await connections.resolve(environment, endpoint);
      const { ticket, expiresAt } = await tickets.issue(principalOf(request).id, followSubject(environment, endpoint, request.params.container));
      const query = new URLSearchParams({ ticket, environment, endpoint });
      return reply.code(201).send({ ticket, expiresAt: expiresAt.toISOString(), url: `/ws/containers/${encodeURIComponent(request.params.container)}?${query}` });
    },
  );

  app.get(
    '/ws/containers/:container',
    {
      websocket: true,
      // Authorized by its ticket (browsers cannot send a bearer header on a WebSocket).
      config: { public: true },
      schema: {
        params: ContainerParams,
        querystring: Type.Object({ ticket: Type.String({ minLength: 10, maxLength: 2_000 }), environment: Endpoint.properties.environment, endpoint: Endpoint.properties.endpoint, tail: Type.Optional(Type.Integer({ minimum: 0, maximum: 5_000, default: 100 })) }),
      },
    },
    async (socket, request) => {
      const { ticket, environment, endpoint, tail } = request.query;
      if (!(await admitSocket(socket, request, { allowedOrigins, tickets, ticket, subject: followSubject(environment, endpoint, request.params.container) }))) return;
      const docker = await endpointFor(environment, endpoint).catch(() => undefined);
      if (!docker) return socket.close(1011, 'the endpoint cannot be used');
      const container = docker.getContainer(request.params.container);
      let batch: Array<{ stream: string; text: string }> = [];
      const flush = () => {
        if (batch.length > 0 && socket.readyState === socket.OPEN) socket.send(JSON.stringify({ type: 'lines', lines: batch }));
        batch = [];
      };
      const timer = setInterval(flush, FOLLOW_BATCH_MS);
      const streams: Array<{ destroy(): void }> = [];
      socket.on('close', () => {
        clearInterval(timer);
        for (const stream of streams) stream.destroy();
      });
      try {
        const output = (await container.logs({ follow: true, stdout: true, stderr: true, tail: tail ?? 100 })) as unknown as Readable;
        streams.push(output);
        docker.modem.demuxStream(output, lineSplitter((text) => batch.push({ stream: 'stdout', text })), lineSplitter((text) => batch.push({ stream: 'stderr', text })));
        output.on('end', () => {
          flush();
          socket.close(1000, 'the container stopped');
        });
        const stats = (await container.stats({ stream: true })) as unknown as Readable;
        streams.push(stats);
        stats.pipe(
          lineSplitter((text) => {
            if (!text.trim() || socket.readyState !== socket.OPEN) return;
            const sample = JSON.parse(text) as DockerStats;
            socket.send(JSON.stringify({ type: 'stats', cpuPercent: Math.round(cpuPercent(sample) * 100) / 100, memoryBytes: sample.memory_stats?.usage ?? 0, memoryLimit: sample.memory_stats?.limit ?? 0 }));
          }),
        );
      } catch (error) {
        const status = (error as { statusCode?: number }).statusCode;
        socket.close(status === 404 ? 4404 : 1011, status === 404 ? 'no such container' : 'the endpoint refused the call');
      }
    },
  );

  for (const verb of VERBS) {
    app.post(
      `/containers/:container/${verb}`,
      {
        schema: {
          tags: ['containers'],
          summary: `${verb[0]!.toUpperCase()}${verb.slice(1)} a container: starts a container-${verb} run (approval in prod) and answers its id`,
          params: ContainerParams,
          body: Type.Object(Endpoint.properties, { additionalProperties: false }),
          response: { 201: Type.Object({ id: Type.String(), runId: Type.String() }), ...problemResponses },
        },
      },
      async (request, reply) => {
        const { environment, endpoint } = request.body;
        auditTarget(request, 'container', request.params.container, { environment, endpoint, action: verb });
        requirePermission(request, 'execute', environment);
        await connections.resolve(environment, endpoint);
        const compiled = runs.expectValid(builtins.compile(`container-${verb}`)!, `the built-in runbook container-${verb} is invalid:`);
        const started = await runs.startRun({ runbook: compiled, inputs: { endpoint, container: request.params.container }, environment, startedBy: principalOf(request).email });
        return reply.code(201).send(started);
      },
    );
  }
};
