// Inbound webhook triggers. Who may do what:
//   read (list, show, deliveries): any role in the trigger's environment;
//   create: the operator role there and the runbook's required role, because
//     the trigger starts runs as whoever creates it (its owner);
//   change, rotate the secret, delete: an admin of the environment, or the
//     owner while they may still start runs there.
// `POST /webhooks/triggers/:id` is public: the trigger's secret is its
// credential (services/trigger-requests.ts says how a request carries it).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { JarvisProblem } from '../../manifest/errors.js';
import { requirePermission } from '../guards.js';
import { auditTarget } from '../plugins/audit.js';
import { principalOf } from '../plugins/auth.js';
import { sendProblem } from '../plugins/errors.js';
import { can, environmentsWhere } from '../rbac.js';
import { problemResponses, ProblemSchema } from '../schemas.js';
import type { TriggerReceiver } from '../services/trigger-receiver.js';
import type { TriggerService, TriggerView } from '../services/trigger-service.js';

const Trigger = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: Type.Union([Type.Literal('webhook'), Type.Literal('alertmanager')]),
  runbook: Type.String(),
  environment: Type.String(),
  ownerId: Type.Union([Type.String(), Type.Null()]),
  ownerEmail: Type.Union([Type.String(), Type.Null()]),
  auth: Type.Union([Type.Literal('hmac'), Type.Literal('bearer')]),
  filter: Type.Union([Type.String(), Type.Null()]),
  inputs: Type.Record(Type.String(), Type.Unknown()),
  dedupKey: Type.Union([Type.String(), Type.Null()]),
  rateLimitPerMinute: Type.Integer(),
  enabled: Type.Boolean(),
  path: Type.String({ description: 'Where deliveries go, on the API’s address' }),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
const WithSecret = Type.Object({ trigger: Trigger, secret: Type.String({ description: 'Shown this once: it is stored sealed and never returned again' }) });
const Delivery = Type.Object({
  id: Type.String(),
  requestId: Type.String(),
  receivedAt: Type.String(),
  outcome: Type.String(),
  runId: Type.Union([Type.String(), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()]),
  alertFingerprint: Type.Union([Type.String(), Type.Null()]),
  bodySha256: Type.String(),
  bodyBytes: Type.Integer(),
});
const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const Name = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' });
const Filter = Type.String({ minLength: 1, maxLength: 2000, description: 'An expression over body and headers (alertmanager: alert and body); the delivery starts nothing when it is false' });
const Inputs = Type.Record(Type.String({ maxLength: 100 }), Type.Unknown(), { description: 'Runbook inputs; strings may be templates such as ${{ body.repository.name }}' });
const DedupKey = Type.String({ minLength: 1, maxLength: 500, description: 'A template naming a delivery, e.g. ${{ body.id }}; default: the sha256 of the raw body' });
const RateLimit = Type.Integer({ minimum: 1, maximum: 10_000, description: 'Deliveries per minute' });

const Answer = Type.Object({ started: Type.Boolean(), runId: Type.Optional(Type.String()), duplicate: Type.Optional(Type.Boolean()), reason: Type.Optional(Type.String()) });
const AlertAnswer = Type.Object({
  results: Type.Array(Type.Object({ fingerprint: Type.String(), status: Type.String(), outcome: Type.String(), runId: Type.Optional(Type.String()), reason: Type.Optional(Type.String()) })),
});

export const triggerRoutes: FastifyPluginAsyncTypebox<{ triggers: TriggerService; receiver: TriggerReceiver }> = async (app, { triggers, receiver }) => {
  /** Admin of the environment, or the owner while they may still start the runbook there. */
  const requireManager = (request: FastifyRequest, trigger: TriggerView) => {
    const principal = principalOf(request);
    if (can(principal, 'administer', trigger.environment)) return;
    if (principal.id === trigger.ownerId && can(principal, 'execute', trigger.environment)) return;
    throw new JarvisProblem(`changing trigger ${trigger.name} needs the admin role in ${trigger.environment}, or to be its owner`, 'forbidden');
  };

  app.get(
    '/triggers',
    {
      schema: {
        tags: ['triggers'],
        summary: 'Triggers in the environments the caller may read (never their secrets)',
        querystring: Type.Object({ environment: Type.Optional(Type.String({ maxLength: 63 })) }),
        response: { 200: Type.Array(Trigger), ...problemResponses },
      },
    },
    async (request) => {
      const readable = environmentsWhere(principalOf(request), 'read');
      if (request.query.environment && !readable.includes(request.query.environment)) throw new JarvisProblem(`you hold no role in ${request.query.environment}`, 'forbidden');
      return triggers.list(request.query.environment ? [request.query.environment] : readable);
    },
  );

  app.post(
    '/triggers',
    {
      schema: {
        tags: ['triggers'],
        summary: 'Create a trigger that starts a runbook as you (operator in its environment); the answer holds its secret, shown once',
        body: Type.Object(
          {
            name: Name,
            kind: Type.Optional(Type.Union([Type.Literal('webhook'), Type.Literal('alertmanager')], { default: 'webhook' })),
            runbook: Type.String({ minLength: 1, maxLength: 100, pattern: '^[a-z0-9][a-z0-9-]*$' }),
            environment: Type.String({ minLength: 1, maxLength: 63 }),
            auth: Type.Optional(Type.Union([Type.Literal('hmac'), Type.Literal('bearer')], { description: 'Default: hmac for webhook, bearer for alertmanager' })),
            filter: Type.Optional(Filter),
            inputs: Type.Optional(Inputs),
            dedupKey: Type.Optional(DedupKey),
            rateLimitPerMinute: Type.Optional(RateLimit),
            enabled: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 201: WithSecret, ...problemResponses },
      },
    },
    async (request, reply) => {
      const { body } = request;
      auditTarget(request, 'trigger', undefined, { environment: body.environment, name: body.name, runbook: body.runbook });
      requirePermission(request, 'execute', body.environment);
      const kind = body.kind ?? 'webhook';
      const created = await triggers.create({ ...body, kind, auth: body.auth ?? (kind === 'alertmanager' ? 'bearer' : 'hmac') }, principalOf(request));
      auditTarget(request, 'trigger', created.trigger.id, { environment: body.environment, name: body.name, runbook: body.runbook, kind, auth: created.trigger.auth });
      return reply.code(201).send(created);
    },
  );

  app.get('/triggers/:id', { schema: { tags: ['triggers'], summary: 'One trigger (never its secret)', params: IdParams, response: { 200: Trigger, ...problemResponses } } }, async (request) => {
    const trigger = await triggers.show(request.params.id);
    requirePermission(request, 'read', trigger.environment);
    return trigger;
  });

  app.patch(
    '/triggers/:id',
    {
      schema: {
        tags: ['triggers'],
        summary: 'Change a trigger’s name, filter, inputs mapping, dedup key, rate limit or whether it is enabled (null removes a filter or dedup key)',
        params: IdParams,
        body: Type.Object(
          {
            name: Type.Optional(Name),
            filter: Type.Optional(Type.Union([Filter, Type.Null()])),
            inputs: Type.Optional(Inputs),
            dedupKey: Type.Optional(Type.Union([DedupKey, Type.Null()])),
            rateLimitPerMinute: Type.Optional(RateLimit),
            enabled: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 200: Trigger, ...problemResponses },
      },
    },
    async (request) => {
      auditTarget(request, 'trigger', request.params.id, { changed: Object.keys(request.body) });
      requireManager(request, await triggers.show(request.params.id));
      return triggers.update(request.params.id, request.body);
    },
  );

  app.post(
    '/triggers/:id/rotate-secret',
    {
      schema: {
        tags: ['triggers'],
        summary: 'Replace a trigger’s secret (the old one stops working); the answer holds the new one, shown once',
        params: IdParams,
        response: { 200: WithSecret, ...problemResponses },
      },
    },
    async (request) => {
      auditTarget(request, 'trigger', request.params.id, { secret: 'rotated' });
      requireManager(request, await triggers.show(request.params.id));
      return triggers.rotateSecret(request.params.id);
    },
  );

  app.delete(
    '/triggers/:id',
    { schema: { tags: ['triggers'], summary: 'Delete a trigger and its delivery log', params: IdParams, response: { 204: Type.Null(), ...problemResponses } } },
    async (request, reply) => {
      auditTarget(request, 'trigger', request.params.id);
      const trigger = await triggers.show(request.params.id);
      requireManager(request, trigger);
      auditTarget(request, 'trigger', request.params.id, { environment: trigger.environment, name: trigger.name });
      await triggers.remove(request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/triggers/:id/deliveries',
    {
      schema: {
        tags: ['triggers'],
        summary: 'What the latest deliveries came to, newest first (body digests, never bodies)',
        params: IdParams,
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })) }),
        response: { 200: Type.Array(Delivery), ...problemResponses },
      },
    },
    async (request) => {
      const trigger = await triggers.show(request.params.id);
      requirePermission(request, 'read', trigger.environment);
      return triggers.deliveries(request.params.id, request.query.limit ?? 100);
    },
  );

  // Signatures cover the exact bytes: keep them, whatever the content type says (these parsers apply to this plugin only).
  await app.register(async (hooks) => {
    const keepBytes = { parseAs: 'buffer' as const, bodyLimit: 1024 * 1024 };
    hooks.removeAllContentTypeParsers();
    hooks.addContentTypeParser('*', keepBytes, (_request, body, done) => done(null, body));
    hooks.post(
      '/webhooks/triggers/:id',
      {
        config: { public: true },
        schema: {
          tags: ['triggers'],
          summary:
            'A trigger’s delivery: HMAC (X-Jarvis-Signature over "<X-Jarvis-Timestamp>.<body>", or X-Hub-Signature-256) or Authorization: Bearer; starts the runbook once per dedup key (alertmanager: once per firing alert)',
          params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) }),
          response: { 200: Type.Union([Answer, AlertAnswer]), 201: Answer, 202: Answer, 422: ProblemSchema, ...problemResponses },
        },
      },
      async (request, reply) => {
        const { id } = request.params as { id: string };
        auditTarget(request, 'trigger', id, { via: 'webhook' });
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const result = await receiver.receive(id, request.headers, body);
        if ('detail' in result) {
          auditTarget(request, 'trigger', id, { via: 'webhook', refused: result.detail });
          if (result.retryAfterSeconds !== undefined) reply.header('retry-after', String(result.retryAfterSeconds));
          return sendProblem(reply, result.status, result.detail, result.errors);
        }
        auditTarget(request, 'trigger', id, { via: 'webhook', ...result.answer });
        return reply.code(result.status).send(result.answer);
      },
    );
  });
};
