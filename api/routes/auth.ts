import '@fastify/cookie';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { principalOf } from '../plugins/auth.js';
import { auditTarget } from '../plugins/audit.js';
import { problemResponses } from '../schemas.js';
import { AuthFailure, type AuthService, type IssuedTokens } from '../services/auth-service.js';

export const REFRESH_COOKIE = 'jarvis_refresh';

const Tokens = Type.Object({
  accessToken: Type.String(),
  accessTokenExpiresAt: Type.String({ format: 'date-time' }),
  refreshToken: Type.String({ description: 'Also set as an httpOnly cookie for browsers.' }),
  refreshTokenExpiresAt: Type.String({ format: 'date-time' }),
});

export interface AuthRouteOptions {
  auth: AuthService;
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

export const authRoutes: FastifyPluginAsyncTypebox<AuthRouteOptions> = async (app, { auth, secureCookies, loginAttemptsPerMinute }) => {
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
      const { userId, tokens } = await auth.logIn(request.body.email, request.body.password, request.body.totp);
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
        await auth.confirmTotp(principal.id, request.body.code, enabled);
        return reply.code(204).send(null);
      },
    );
  }

  app.post(
    '/auth/api-tokens',
    {
      schema: {
        tags: ['auth'],
        summary: 'Create an API token for the CLI or automation; it is shown once',
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }), expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })) }, { additionalProperties: false }),
        response: { 201: Type.Object({ id: Type.String(), token: Type.String(), prefix: Type.String() }), ...problemResponses },
      },
    },
    async (request, reply) => {
      const expiresAt = request.body.expiresInDays ? new Date(Date.now() + request.body.expiresInDays * 86_400_000) : undefined;
      const created = await auth.createApiToken(principalOf(request).id, request.body.name, expiresAt);
      auditTarget(request, 'api-token', created.id, { name: request.body.name });
      return reply.code(201).send(created);
    },
  );
};
