import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { parseDuration } from '../../manifest/duration.js';
import { defineAction, durationArgument, textArgument } from '../action.js';
import { parseJsonBody, performHttpCall } from './http-fetch.js';

const methodArgument = z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export const httpRequest = defineAction({
  id: 'http.request',
  title: 'Send an HTTP request',
  description:
    "Sends one HTTP request and returns its status, headers and body (parsed as JSON when it is JSON). Any status is a success. Reaches public addresses, and others only when the environment's egress allowlist names them.",
  risk: 'medium',
  input: z
    .object({
      url: z.url(),
      method: methodArgument.default('GET'),
      headers: z.record(z.string(), textArgument).default({}),
      body: z.unknown().optional(),
      timeout: durationArgument.default('30s'),
    })
    .strict(),
  output: z.object({
    status: z.number(),
    ok: z.boolean(),
    headers: z.record(z.string(), z.string()),
    body: z.string(),
    json: z.unknown().optional(),
    durationMs: z.number(),
  }),
  defaults: { timeout: '1m', retry: { maxAttempts: 3, initialInterval: '1s', backoff: 2, maxInterval: '30s' } },
  create: (deps) => async (args, context) => {
    const answer = await performHttpCall(
      { url: args.url, method: args.method, headers: args.headers, body: args.body, timeoutMs: parseDuration(args.timeout) ?? 30_000 },
      context,
      deps,
    );
    return { ...answer, ok: answer.status >= 200 && answer.status < 300, json: parseJsonBody(answer.body) };
  },
});

export const httpCheck = defineAction({
  id: 'http.check',
  title: 'Check an HTTP endpoint',
  description:
    'Fails unless the endpoint answers with an expected status (and, if given, a body containing a text or matching a pattern). Retried by default: use it to wait for a service to become healthy. Its output is the status, the time taken and whether the body matched, never the body itself: anyone who may read the run sees outputs.',
  risk: 'low',
  input: z
    .object({
      url: z.url(),
      method: methodArgument.default('GET'),
      headers: z.record(z.string(), textArgument).default({}),
      expectStatus: z.union([z.number().int(), z.array(z.number().int()).min(1)]).default(200),
      expectBody: z.string().optional(),
      expectBodyPattern: z.string().optional(),
      timeout: durationArgument.default('10s'),
    })
    .strict(),
  output: z.object({
    status: z.number(),
    durationMs: z.number(),
    /** Present when the step expects a text or a pattern: whether the body had it. */
    bodyMatched: z.boolean().optional(),
  }),
  defaults: { timeout: '30s', retry: { maxAttempts: 5, initialInterval: '2s', backoff: 2, maxInterval: '30s' } },
  create: (deps) => async (args, context) => {
    const answer = await performHttpCall(
      { url: args.url, method: args.method, headers: args.headers, timeoutMs: parseDuration(args.timeout) ?? 10_000 },
      context,
      deps,
    );
    const expected = Array.isArray(args.expectStatus) ? args.expectStatus : [args.expectStatus];
    const problems: string[] = [];
    if (!expected.includes(answer.status)) problems.push(`status ${answer.status}, expected ${expected.join(' or ')}`);
    if (args.expectBody !== undefined && !answer.body.includes(args.expectBody)) {
      problems.push(`body does not contain "${args.expectBody}"`);
    }
    if (args.expectBodyPattern !== undefined && !new RegExp(args.expectBodyPattern).test(answer.body)) {
      problems.push(`body does not match /${args.expectBodyPattern}/`);
    }
    if (problems.length > 0) {
      throw ApplicationFailure.retryable(`${args.url} is not healthy: ${problems.join('; ')}`, 'HealthCheckFailed', {
        status: answer.status,
      });
    }
    // The body stays here: a viewer of the run must not read an internal page through a health check.
    const expectsBody = args.expectBody !== undefined || args.expectBodyPattern !== undefined;
    return { status: answer.status, durationMs: answer.durationMs, ...(expectsBody ? { bodyMatched: true } : {}) };
  },
});
