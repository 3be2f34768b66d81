// One error shape for every answer that is not a success: problem+json.
// 4xx say what to fix; 5xx say only that it failed, with an id that is logged.
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import { randomUUID } from 'node:crypto';
import { JarvisProblem, type ProblemKind } from '../../manifest/errors.js';
import { AuthFailure } from '../services/auth-service.js';
import { SignInRefused } from '../services/sign-in-backoff.js';
import type { Problem } from '../schemas.js';

const STATUS_BY_KIND: Record<ProblemKind, number> = { invalid: 400, 'not-found': 404, conflict: 409, forbidden: 403, unavailable: 502 };
const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Authentication required',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  502: 'Bad gateway',
  413: 'Request body too large',
  415: 'Unsupported media type',
  429: 'Too many requests',
  500: 'Internal error',
};

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The problem+json body of an answer to `url`. */
export function problemOf(url: string, status: number, detail: string, errors?: Problem['errors']): Problem {
  return {
    type: `https://jarvis.dev/problems/${status}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    instance: url.split('?')[0],
    ...(errors && errors.length > 0 ? { errors } : {}),
  };
}

export function sendProblem(reply: FastifyReply, status: number, detail: string, errors?: Problem['errors']): FastifyReply {
  return reply.code(status).type('application/problem+json').send(problemOf(reply.request.url, status, detail, errors));
}

export default fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError, request, reply) => {
      if (error instanceof JarvisProblem) return sendProblem(reply, STATUS_BY_KIND[error.kind], error.message.split('\n')[0] ?? error.message, error.errors);
      if (error instanceof AuthFailure) return sendProblem(reply, 401, error.message);
      if (error instanceof SignInRefused) return sendProblem(reply.header('retry-after', String(error.retryAfterSeconds)), 429, error.message);
      if (error instanceof HttpProblem) return sendProblem(reply, error.status, error.message);
      if (error.validation) {
        const errors = error.validation.map((issue) => ({
          path: `${error.validationContext ?? 'request'}${issue.instancePath.replace(/\//g, '.')}`,
          message: issue.message ?? 'invalid',
        }));
        return sendProblem(reply, 400, `the request is invalid: ${errors.map((issue) => `${issue.path} ${issue.message}`).join('; ')}`, errors);
      }
      const status = error.statusCode ?? 500;
      if (status >= 400 && status < 500) return sendProblem(reply, status, error.message);
      const reference = randomUUID();
      request.log.error({ err: error, reference }, 'request failed');
      return sendProblem(reply, 500, `the request failed on the server; reference ${reference}`);
    });
    app.setNotFoundHandler((request, reply) => sendProblem(reply, 404, `no route ${request.method} ${request.url.split('?')[0]}`));
  },
  { name: 'errors' },
);
