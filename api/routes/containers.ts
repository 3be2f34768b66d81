// Containers of a Docker endpoint (a `docker` connection): listed grouped by
// Compose project or Swarm stack, their logs read, and restarted, stopped or
// started through a short run of the built-in container runbooks, so every
// action is recorded, audited and, in prod, approved.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import path from 'node:path';
import { PROJECT_ROOT } from '../../config/env.js';
import { demultiplexLogs, EndpointError, listContainers, openDockerEndpoint } from '../../infra/docker-endpoint.js';
import { listStacks } from '../../infra/swarm-stack.js';
import { RunbookCatalog } from '../../manifest/catalog.js';
import { JarvisProblem } from '../../runs/errors.js';
import type { RunService } from '../../runs/run-service.js';
import { requirePermission } from '../guards.js';
import { auditTarget } from '../plugins/audit.js';
import { principalOf } from '../plugins/auth.js';
import { problemResponses } from '../schemas.js';
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

export const containerRoutes: FastifyPluginAsyncTypebox<{ runs: RunService; connections: ConnectionService }> = async (app, { runs, connections }) => {
  // The container runbooks ship with Jarvis: they do not depend on the configured catalog folder.
  const builtins = await RunbookCatalog.fromDirectory(path.join(PROJECT_ROOT, 'runbooks'));

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
