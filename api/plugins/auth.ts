// Every route needs a signed-in user unless it declares `config: { public: true }`
// (login, refresh, health, readiness, the OpenAPI document).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Principal } from '../rbac.js';
import type { AuthService } from '../services/auth-service.js';
import { sendProblem } from './errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    public?: boolean;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const [scheme, token] = header.split(' ');
  return scheme?.toLowerCase() === 'bearer' && token ? token : undefined;
}

/** The signed-in user of a protected route (the hook has already refused anonymous requests). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error('principalOf called on a public route');
  return request.principal;
}

export default fp(
  async (app: FastifyInstance, options: { auth: AuthService }) => {
    app.decorateRequest('principal', undefined);
    app.addHook('onRequest', async (request, reply) => {
      if (request.routeOptions.config?.public || !request.routeOptions.url) return;
      const token = bearerToken(request);
      const principal = token ? await options.auth.authenticate(token) : undefined;
      if (!principal) return sendProblem(reply, 401, token ? 'the token is invalid or expired' : 'sign in first: send Authorization: Bearer <token>');
      request.principal = principal;
    });
  },
  { name: 'auth', dependencies: ['errors'] },
);
