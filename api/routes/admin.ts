// Environments, users and their role grants.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { ROLES } from '../../manifest/types.js';
import { JarvisProblem } from '../../manifest/errors.js';
import { requireAdministrator, requirePermission } from '../guards.js';
import { auditTarget } from '../plugins/audit.js';
import { principalOf } from '../plugins/auth.js';
import { problemResponses } from '../schemas.js';
import type { AuthService } from '../services/auth-service.js';
import type { EnvironmentService } from '../services/environment-service.js';
import type { UserService } from '../services/user-service.js';
import { ApiToken, apiTokenView, NewPassword } from './auth.js';

const Uuid = Type.String({ format: 'uuid' });
const EnvironmentName = Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-z0-9][a-z0-9-]*$' });
const Environment = Type.Object({ name: Type.String(), description: Type.String() });
const Grant = Type.Object({ id: Type.String(), environment: Type.String(), role: Type.String() });
const User = Type.Object({ id: Type.String(), email: Type.String(), name: Type.String(), disabled: Type.Boolean(), totpEnabled: Type.Boolean(), grants: Type.Array(Grant) });

export const adminRoutes: FastifyPluginAsyncTypebox<{ environments: EnvironmentService; users: UserService; auth: AuthService }> = async (app, { environments, users, auth }) => {
  app.get(
    '/environments',
    { schema: { tags: ['admin'], summary: 'Environments', response: { 200: Type.Array(Environment), ...problemResponses } } },
    async () => environments.listEnvironments(),
  );

  app.post(
    '/environments',
    {
      schema: {
        tags: ['admin'],
        summary: 'Create an environment; its creator becomes admin in it',
        body: Type.Object({ name: EnvironmentName, description: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false }),
        response: { 201: Environment, ...problemResponses },
      },
    },
    async (request, reply) => {
      auditTarget(request, 'environment', request.body.name);
      requireAdministrator(request);
      const created = await environments.createEnvironment(request.body.name, request.body.description ?? '');
      await users.grant(principalOf(request).id, created.name, 'admin');
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/users',
    { schema: { tags: ['admin'], summary: 'Users with their grants', response: { 200: Type.Array(User), ...problemResponses } } },
    async (request) => {
      requireAdministrator(request);
      return users.listUsers();
    },
  );

  app.post(
    '/users',
    {
      schema: {
        tags: ['admin'],
        summary: 'Create a user',
        body: Type.Object(
          { email: Type.String({ format: 'email', maxLength: 200 }), name: Type.String({ minLength: 1, maxLength: 200 }), password: Type.String({ minLength: 12, maxLength: 200 }) },
          { additionalProperties: false },
        ),
        response: { 201: User, ...problemResponses },
      },
    },
    async (request, reply) => {
      auditTarget(request, 'user', request.body.email);
      requireAdministrator(request);
      const created = await users.createUser(request.body);
      auditTarget(request, 'user', created.id, { email: created.email });
      return reply.code(201).send((await users.listUsers({ id: created.id }))[0]!);
    },
  );

  /**
   * Whoever controls a person's credentials can act as them: managing them
   * needs the admin role in every environment they hold a role in (and somewhere).
   */
  const requireAdminOver = async (request: FastifyRequest, userId: string) => {
    requireAdministrator(request);
    const target = await users.withEnvironments(userId);
    for (const environment of target.environments) requirePermission(request, 'administer', environment);
    return target;
  };
  const UserParams = Type.Object({ id: Uuid });

  app.post(
    '/users/:id/password',
    {
      schema: {
        tags: ['admin'],
        summary: "Set a user's password (admin wherever they hold a role); all their sessions and API tokens are revoked",
        params: UserParams,
        body: Type.Object({ password: NewPassword }, { additionalProperties: false }),
        response: { 204: Type.Null(), ...problemResponses },
      },
    },
    async (request, reply) => {
      auditTarget(request, 'user', request.params.id, { password: 'reset' });
      await requireAdminOver(request, request.params.id);
      await users.resetPassword(request.params.id, request.body.password);
      auth.forget(request.params.id);
      return reply.code(204).send(null);
    },
  );

  for (const [action, disabled] of [['disable', true], ['enable', false]] as const) {
    app.post(
      `/users/:id/${action}`,
      {
        schema: {
          tags: ['admin'],
          summary: disabled
            ? 'Disable a user (admin wherever they hold a role): their sign-ins, sessions and API tokens are refused at once'
            : 'Enable a disabled user again; their unexpired sessions and API tokens work again',
          params: UserParams,
          response: { 200: User, ...problemResponses },
        },
      },
      async (request) => {
        auditTarget(request, 'user', request.params.id, { disabled });
        await requireAdminOver(request, request.params.id);
        if (disabled && request.params.id === principalOf(request).id) throw new JarvisProblem('you cannot disable your own account', 'conflict');
        await users.setDisabled(request.params.id, disabled);
        auth.forget(request.params.id);
        return (await users.listUsers({ id: request.params.id }))[0]!;
      },
    );
  }

  app.get(
    '/users/:id/api-tokens',
    {
      schema: {
        tags: ['admin'],
        summary: "A user's API tokens that still work (admin wherever they hold a role)",
        params: UserParams,
        response: { 200: Type.Array(ApiToken), ...problemResponses },
      },
    },
    async (request) => {
      await requireAdminOver(request, request.params.id);
      return (await auth.listApiTokens(request.params.id)).map(apiTokenView);
    },
  );

  app.delete(
    '/users/:id/api-tokens/:tokenId',
    {
      schema: {
        tags: ['admin'],
        summary: "Revoke a user's API token (admin wherever they hold a role); it stops working at once",
        params: Type.Object({ id: Uuid, tokenId: Uuid }),
        response: { 204: Type.Null(), ...problemResponses },
      },
    },
    async (request, reply) => {
      auditTarget(request, 'api-token', request.params.tokenId, { userId: request.params.id });
      await requireAdminOver(request, request.params.id);
      await auth.revokeApiToken(request.params.id, request.params.tokenId);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/users/:id/grants',
    {
      schema: {
        tags: ['admin'],
        summary: 'Grant a role in an environment (admin there only)',
        params: Type.Object({ id: Uuid }),
        body: Type.Object({ environment: EnvironmentName, role: Type.Union(ROLES.map((role) => Type.Literal(role))) }, { additionalProperties: false }),
        response: { 201: User, ...problemResponses },
      },
    },
    async (request, reply) => {
      auditTarget(request, 'user', request.params.id, request.body);
      requirePermission(request, 'administer', request.body.environment);
      await users.requireUser(request.params.id);
      await users.grant(request.params.id, request.body.environment, request.body.role);
      return reply.code(201).send((await users.listUsers({ id: request.params.id }))[0]!);
    },
  );

  app.delete(
    '/users/:id/grants/:grantId',
    {
      schema: {
        tags: ['admin'],
        summary: 'Withdraw a role grant (admin in its environment only)',
        params: Type.Object({ id: Uuid, grantId: Uuid }),
        response: { 204: Type.Null(), ...problemResponses },
      },
    },
    async (request, reply) => {
      auditTarget(request, 'user', request.params.id, { grantId: request.params.grantId });
      const grant = await users.findGrant(request.params.id, request.params.grantId);
      requirePermission(request, 'administer', grant.environment);
      await users.withdrawGrant(grant.id);
      return reply.code(204).send(null);
    },
  );
};
