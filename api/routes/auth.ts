import '@fastify/cookie';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { principalOf } from '../plugins/auth.js';
import { auditTarget } from '../plugins/audit.js';
import { problemResponses } from '../schemas.js';
import { AuthFailure, type ApiTokenView, type AuthService, type IssuedTokens } from '../services/auth-service.js';
import type { UserService } from '../services/user-service.js';

export const REFRESH_COOKIE = 'jarvis_refresh';

const Tokens = Type.Object({
  accessToken: Type.String(),
  accessTokenExpiresAt: Type.String({ format: 'date-time' }),
  refreshToken: Type.String({ description: 'Also set as an httpOnly cookie for browsers.' }),
  refreshTokenExpiresAt: Type.String({ format: 'date-time' }),
});

export const ApiToken = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String({ description: 'The first characters of the token, to tell tokens apart' }),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

export function apiTokenView(token: ApiTokenView) {
  return { ...token, createdAt: token.createdAt.toISOString(), expiresAt: token.expiresAt.toISOString(), lastUsedAt: token.lastUsedAt?.toISOString() ?? null };
}

export const NewPassword = Type.String({ minLength: 12, maxLength: 200 });

export interface AuthRouteOptions {
  auth: AuthService;
  users: UserService;
  secureCookies: boolean;
  loginAttemptsPerMinute: number;
}

function answerWithTokens(reply: FastifyReply, tokens: IssuedTokens, secure: boolean) {
  reply.setCookie(REFRESH_COOKIE, tokens.refreshToken, {
    httpOnly: true,
    secure,
    sameSite: 'strict',
    path: '/auth',
    expires: tokens.refreshTokenExpiresAt,
  });
  return {
    accessToken: tokens.accessToken,
    accessTokenExpiresAt: tokens.accessTokenExpiresAt.toISOString(),
    refreshToken: tokens.refreshToken,
    refreshTokenExpiresAt: tokens.refreshTokenExpiresAt.toISOString(),
  };
}

/** The refresh token from a JSON body `{ "refreshToken": ... }` (CLI) or the httpOnly cookie (browsers). */
function presentedRefreshToken(request: FastifyRequest): string {
  const fromBody = (request.body as { refreshToken?: unknown } | undefined)?.refreshToken;
  if (fromBody !== undefined && (typeof fromBody !== 'string' || fromBody.length > 200)) throw new AuthFailure('refreshToken must be a string');
  const token = fromBody ?? request.cookies[REFRESH_COOKIE];
  if (!token) throw new AuthFailure('no refresh token: send it in the body or the jarvis_refresh cookie');
  return token;
}

export const authRoutes: FastifyPluginAsyncTypebox<AuthRouteOptions> = async (app, { auth, users, secureCookies, loginAttemptsPerMinute }) => {
  app.post(
    '/auth/login',
    {
      config: { public: true, rateLimit: { max: loginAttemptsPerMinute, timeWindow: '1 minute' } },
      schema: {
        tags: ['auth'],
        summary: 'Sign in with email and password',
        body: Type.Object(
          {
            email: Type.String({ format: 'email', maxLength: 200 }),
            password: Type.String({ minLength: 1, maxLength: 200 }),
            totp: Type.Optional(Type.String({ pattern: '^[0-9]{6}$', description: 'The current code, for accounts with TOTP' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Tokens, ...problemResponses },
      },
    },
    async (request, reply) => {
      // request.ip is the client behind our proxies (JARVIS_TRUSTED_PROXIES), never what a client claims.
      const { userId, tokens } = await auth.logIn(request.body.email, request.body.password, request.body.totp, request.ip);
      auditTarget(request, 'user', userId);
      return answerWithTokens(reply, tokens, secureCookies);
    },
  );

  app.post(
    '/auth/refresh',
    { config: { public: true }, schema: { tags: ['auth'], summary: 'Rotate a refresh token (body { refreshToken } or the jarvis_refresh cookie)', response: { 200: Tokens, ...problemResponses } } },
    async (request, reply) => {
      const { userId, tokens } = await auth.refresh(presentedRefreshToken(request));
      auditTarget(request, 'user', userId);
      return answerWithTokens(reply, tokens, secureCookies);
    },
  );

  app.post(
    '/auth/logout',
    { config: { public: true }, schema: { tags: ['auth'], summary: 'End the session of a refresh token (body { refreshToken } or the cookie)', response: { 204: Type.Null(), ...problemResponses } } },
    async (request, reply) => {
      await auth.logOut(presentedRefreshToken(request));
      reply.clearCookie(REFRESH_COOKIE, { path: '/auth' });
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/auth/me',
    {
      schema: {
        tags: ['auth'],
        summary: 'The signed-in user and their roles per environment',
        response: {
          200: Type.Object({ id: Type.String(), email: Type.String(), grants: Type.Array(Type.Object({ environment: Type.String(), role: Type.String() })) }),
          ...problemResponses,
        },
      },
    },
    async (request) => principalOf(request),
  );

  const Code = Type.Object({ code: Type.String({ pattern: '^[0-9]{6}$' }) }, { additionalProperties: false });
  app.post(
    '/auth/totp/setup',
    {
      schema: {
        tags: ['auth'],
        summary: 'Start TOTP enrolment: a secret for the authenticator app (confirm it with /auth/totp/enable)',
        response: { 201: Type.Object({ secret: Type.String(), uri: Type.String() }), ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      auditTarget(request, 'user', principal.id, { totp: 'setup' });
      return reply.code(201).send(await auth.setUpTotp(principal.id, principal.email));
    },
  );
  for (const [action, enabled] of [['enable', true], ['disable', false]] as const) {
    app.post(
      `/auth/totp/${action}`,
      { schema: { tags: ['auth'], summary: `${action === 'enable' ? 'Turn on' : 'Turn off'} TOTP with a current code`, body: Code, response: { 204: Type.Null(), ...problemResponses } } },
      async (request, reply) => {
        const principal = principalOf(request);
        auditTarget(request, 'user', principal.id, { totp: action });
        await auth.confirmTotp(principal.id, request.body.code, enabled, request.ip);
        return reply.code(204).send(null);
      },
    );
  }

  app.post(
    '/auth/password',
    {
      schema: {
        tags: ['auth'],
        summary: 'Change your own password with the current one; your other sessions end, this one goes on',
        body: Type.Object({ currentPassword: Type.String({ minLength: 1, maxLength: 200 }), newPassword: NewPassword }, { additionalProperties: false }),
        response: { 204: Type.Null(), ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      auditTarget(request, 'user', principal.id, { password: 'change' });
      await auth.checkPassword(principal.id, request.body.currentPassword, request.ip);
      await users.changePassword(principal.id, request.body.newPassword, principal.sessionId);
      auth.forget(principal.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/auth/api-tokens',
    {
      schema: {
        tags: ['auth'],
        summary: 'Create an API token for the CLI or automation; it is shown once. Without expiresInDays it lives JARVIS_API_TOKEN_MAX_TTL; longer is refused',
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }), expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })) }, { additionalProperties: false }),
        response: { 201: Type.Object({ id: Type.String(), token: Type.String(), prefix: Type.String(), expiresAt: Type.String({ format: 'date-time' }) }), ...problemResponses },
      },
    },
    async (request, reply) => {
      auditTarget(request, 'api-token', undefined, { name: request.body.name });
      const created = await auth.createApiToken(principalOf(request).id, request.body.name, request.body.expiresInDays);
      auditTarget(request, 'api-token', created.id, { name: request.body.name, expiresAt: created.expiresAt.toISOString() });
      return reply.code(201).send({ ...created, expiresAt: created.expiresAt.toISOString() });
    },
  );

  app.get(
    '/auth/api-tokens',
    { schema: { tags: ['auth'], summary: 'Your API tokens that still work (prefixes only), newest first', response: { 200: Type.Array(ApiToken), ...problemResponses } } },
    async (request) => (await auth.listApiTokens(principalOf(request).id)).map(apiTokenView),
  );

  app.delete(
    '/auth/api-tokens/:id',
    {
      schema: {
        tags: ['auth'],
        summary: 'Revoke one of your API tokens; it stops working at once',
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: { 204: Type.Null(), ...problemResponses },
      },
    },
    async (request, reply) => {
      auditTarget(request, 'api-token', request.params.id);
      await auth.revokeApiToken(principalOf(request).id, request.params.id);
      return reply.code(204).send(null);
    },
  );
};
