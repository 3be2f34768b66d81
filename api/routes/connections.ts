import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { JarvisProblem } from '../../manifest/errors.js';
import { requirePermission } from '../guards.js';
import { auditTarget } from '../plugins/audit.js';
import { principalOf } from '../plugins/auth.js';
import { environmentsWhere } from '../rbac.js';
import { problemResponses } from '../schemas.js';
import type { ConnectionService } from '../services/connection-service.js';

const Connection = Type.Object({
  id: Type.String(),
  name: Type.String(),
  type: Type.String(),
  environment: Type.String(),
  config: Type.Record(Type.String(), Type.Unknown()),
  hasSecret: Type.Boolean(),
  secretKeyId: Type.Union([Type.String(), Type.Null()]),
  hostKeys: Type.Array(
    Type.Object({
      address: Type.String({ description: 'host:port' }),
      type: Type.String(),
      fingerprint: Type.String({ description: 'SHA256:..., as ssh-keygen -l prints it' }),
      pinnedAt: Type.String(),
      pinnedBy: Type.Union([Type.String(), Type.Null()]),
    }),
    { description: 'SSH host keys pinned by the first step that reached each address; later steps must meet the same key' },
  ),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
const Config = Type.Record(Type.String({ maxLength: 100 }), Type.Unknown(), { description: 'Settings that are not secret (host, port, user, ...)' });
const Secret = Type.String({ minLength: 1, maxLength: 20_000, description: 'Write-only: stored encrypted, never returned' });
const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const connectionRoutes: FastifyPluginAsyncTypebox<{ connections: ConnectionService }> = async (app, { connections }) => {
  app.get(
    '/connections',
    {
      schema: {
        tags: ['connections'],
        summary: 'Connections in the environments the caller may read (never their secrets)',
        querystring: Type.Object({ environment: Type.Optional(Type.String({ maxLength: 63 })) }),
        response: { 200: Type.Array(Connection), ...problemResponses },
      },
    },
    async (request) => {
      const readable = environmentsWhere(principalOf(request), 'read');
      if (request.query.environment && !readable.includes(request.query.environment)) throw new JarvisProblem(`you hold no role in ${request.query.environment}`, 'forbidden');
      return connections.list(request.query.environment ? [request.query.environment] : readable);
    },
  );

  app.post(
    '/connections',
    {
      schema: {
        tags: ['connections'],
        summary: 'Create a connection (admin in its environment)',
        body: Type.Object(
          {
            environment: Type.String({ minLength: 1, maxLength: 63 }),
            name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }),
            type: Type.String({ minLength: 1, maxLength: 50 }),
            config: Type.Optional(Config),
            secret: Type.Optional(Secret),
          },
          { additionalProperties: false },
        ),
        response: { 201: Connection, ...problemResponses },
      },
    },
    async (request, reply) => {
      auditTarget(request, 'connection', undefined, { environment: request.body.environment, name: request.body.name, type: request.body.type });
      requirePermission(request, 'administer', request.body.environment);
      const created = await connections.create({ ...request.body, config: request.body.config ?? {} });
      auditTarget(request, 'connection', created.id, { environment: created.environment, name: created.name, type: created.type, secret: request.body.secret !== undefined });
      return reply.code(201).send(created);
    },
  );

  app.patch(
    '/connections/:id',
    {
      schema: {
        tags: ['connections'],
        summary: 'Change settings, replace (or, with null, remove) the secret, or forget the pinned SSH host keys (hostKeys: null)',
        params: IdParams,
        body: Type.Object(
          {
            config: Type.Optional(Config),
            secret: Type.Optional(Type.Union([Secret, Type.Null()])),
            hostKeys: Type.Optional(Type.Null({ description: 'null forgets every pinned SSH host key: the next step trusts the key it meets' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Connection, ...problemResponses },
      },
    },
    async (request) => {
      const changes = {
        config: request.body.config !== undefined,
        secret: request.body.secret === undefined ? 'kept' : request.body.secret === null ? 'removed' : 'replaced',
        hostKeys: request.body.hostKeys === null ? 'forgotten' : 'kept',
      };
      auditTarget(request, 'connection', request.params.id, changes);
      requirePermission(request, 'administer', await connections.environmentOf(request.params.id));
      const { forgotten, ...updated } = await connections.update(request.params.id, request.body);
      // The audit entry keeps which keys were trusted before, so a reset can be told from a key change later.
      if (forgotten.length > 0) auditTarget(request, 'connection', request.params.id, { ...changes, forgottenHostKeys: forgotten.map((key) => `${key.address} ${key.fingerprint}`) });
      return updated;
    },
  );

  app.delete(
    '/connections/:id',
    { schema: { tags: ['connections'], summary: 'Delete a connection', params: IdParams, response: { 204: Type.Null(), ...problemResponses } } },
    async (request, reply) => {
      auditTarget(request, 'connection', request.params.id);
      requirePermission(request, 'administer', await connections.environmentOf(request.params.id));
      await connections.remove(request.params.id);
      return reply.code(204).send(null);
    },
  );
};
