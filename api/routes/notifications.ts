import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { NOTIFICATION_KINDS } from '../../notifications/events.js';
import { LOCALES } from '../../notifications/messages.js';
import { requirePermission } from '../guards.js';
import { auditTarget } from '../plugins/audit.js';
import { principalOf } from '../plugins/auth.js';
import { environmentsWhere } from '../rbac.js';
import { problemResponses } from '../schemas.js';
import type { NotificationService } from '../services/notification-service.js';

const Kind = Type.Union(NOTIFICATION_KINDS.map((kind) => Type.Literal(kind)));
const Locale = Type.Union(LOCALES.map((locale) => Type.Literal(locale)));
const Events = Type.Array(Kind, { minItems: 1, maxItems: NOTIFICATION_KINDS.length, uniqueItems: true });
const Uuid = Type.String({ format: 'uuid' });
const IdParams = Type.Object({ id: Uuid });
const Name = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9 ._-]*$' });
const Runbook = Type.Union([Type.String({ minLength: 1, maxLength: 100, pattern: '^[a-z0-9][a-z0-9-]*$' }), Type.Null()]);
const Recipient = Type.Union([Type.String({ minLength: 1, maxLength: 320, description: 'An e-mail address (smtp), a chat id (telegram), a channel (slack bot), a topic (ntfy)' }), Type.Null()]);

const Rule = Type.Object({
  id: Type.String(),
  environment: Type.String(),
  name: Type.String(),
  events: Type.Array(Type.String()),
  connectionId: Type.String(),
  channel: Type.String({ description: 'The connection type: smtp, slack, teams, telegram, ntfy or webhook' }),
  runbook: Type.Union([Type.String(), Type.Null()]),
  recipient: Type.Union([Type.String(), Type.Null()]),
  locale: Type.String(),
  enabled: Type.Boolean(),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

const Subscription = Type.Object({
  id: Type.String(),
  environment: Type.String(),
  events: Type.Array(Type.String()),
  connectionId: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
});

const Delivery = Type.Object({
  id: Type.String(),
  eventId: Type.String(),
  kind: Type.String(),
  environment: Type.String(),
  runId: Type.Union([Type.String(), Type.Null()]),
  target: Type.String(),
  ruleId: Type.Union([Type.String(), Type.Null()]),
  subscriptionId: Type.Union([Type.String(), Type.Null()]),
  channel: Type.String(),
  recipient: Type.String(),
  status: Type.String({ description: 'sent, retrying or failed' }),
  attempts: Type.Integer(),
  lastError: Type.Union([Type.String(), Type.Null()]),
  eventCreatedAt: Type.String({ description: 'When the event happened: with sentAt, the event-to-delivered latency' }),
  createdAt: Type.String(),
  sentAt: Type.Union([Type.String(), Type.Null()]),
});

export const notificationRoutes: FastifyPluginAsyncTypebox<{ notifications: NotificationService }> = async (app, { notifications }) => {
  app.get(
    '/notifications/rules',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Notification rules of the environments the caller administers',
        querystring: Type.Object({ environment: Type.Optional(Type.String({ maxLength: 63 })) }),
        response: { 200: Type.Array(Rule), ...problemResponses },
      },
    },
    async (request) => {
      if (request.query.environment) requirePermission(request, 'administer', request.query.environment);
      return notifications.listRules(request.query.environment ? [request.query.environment] : environmentsWhere(principalOf(request), 'administer'));
    },
  );

  app.post(
    '/notifications/rules',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Create a rule: these events of the environment go to this channel connection (admin there)',
        body: Type.Object(
          {
            environment: Type.String({ minLength: 1, maxLength: 63 }),
            name: Name,
            events: Events,
            connectionId: Uuid,
            runbook: Type.Optional(Runbook),
            recipient: Type.Optional(Recipient),
            locale: Type.Optional(Locale),
            enabled: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 201: Rule, ...problemResponses },
      },
    },
    async (request, reply) => {
      const { environment, ...input } = request.body;
      auditTarget(request, 'notification-rule', undefined, { environment, name: input.name, events: input.events, connectionId: input.connectionId });
      requirePermission(request, 'administer', environment);
      const created = await notifications.createRule(environment, input, principalOf(request).email);
      auditTarget(request, 'notification-rule', created.id, { environment, name: created.name, events: created.events, connectionId: created.connectionId, runbook: created.runbook });
      return reply.code(201).send(created);
    },
  );

  app.patch(
    '/notifications/rules/:id',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Change a rule (admin in its environment)',
        params: IdParams,
        body: Type.Object(
          {
            name: Type.Optional(Name),
            events: Type.Optional(Events),
            connectionId: Type.Optional(Uuid),
            runbook: Type.Optional(Runbook),
            recipient: Type.Optional(Recipient),
            locale: Type.Optional(Locale),
            enabled: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 200: Rule, ...problemResponses },
      },
    },
    async (request) => {
      auditTarget(request, 'notification-rule', request.params.id, { changes: request.body });
      requirePermission(request, 'administer', (await notifications.rule(request.params.id)).environment);
      return notifications.updateRule(request.params.id, request.body);
    },
  );

  app.delete(
    '/notifications/rules/:id',
    { schema: { tags: ['notifications'], summary: 'Delete a rule (its delivery log stays)', params: IdParams, response: { 204: Type.Null(), ...problemResponses } } },
    async (request, reply) => {
      auditTarget(request, 'notification-rule', request.params.id);
      const rule = await notifications.rule(request.params.id);
      requirePermission(request, 'administer', rule.environment);
      auditTarget(request, 'notification-rule', request.params.id, { environment: rule.environment, name: rule.name });
      await notifications.removeRule(request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/notifications/rules/:id/test',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Send a test message through the rule, by the same durable delivery as every notification (see the delivery log)',
        params: IdParams,
        response: { 202: Type.Object({ eventId: Type.String(), workflowId: Type.String() }), ...problemResponses },
      },
    },
    async (request, reply) => {
      auditTarget(request, 'notification-rule', request.params.id, { test: true });
      requirePermission(request, 'administer', (await notifications.rule(request.params.id)).environment);
      return reply.code(202).send(await notifications.sendTest(request.params.id, principalOf(request).email));
    },
  );

  app.get(
    '/notifications/deliveries',
    {
      schema: {
        tags: ['notifications'],
        summary: "The delivery log: a rule's deliveries (admin in its environment), or without a rule the caller's own",
        querystring: Type.Object({ rule: Type.Optional(Uuid), limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }) }),
        response: { 200: Type.Array(Delivery), ...problemResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      if (request.query.rule) {
        const rule = await notifications.rule(request.query.rule);
        requirePermission(request, 'administer', rule.environment);
        return notifications.deliveries({ environments: [rule.environment], ruleId: rule.id, limit: request.query.limit });
      }
      return notifications.deliveries({ environments: environmentsWhere(principal, 'read'), userId: principal.id, limit: request.query.limit });
    },
  );

  app.get(
    '/notifications/subscriptions',
    { schema: { tags: ['notifications'], summary: "The caller's own subscriptions", response: { 200: Type.Array(Subscription), ...problemResponses } } },
    async (request) => notifications.listSubscriptions(principalOf(request).id),
  );

  app.post(
    '/notifications/subscriptions',
    {
      schema: {
        tags: ['notifications'],
        summary:
          "Subscribe to events of an environment where the caller holds a role: their own runs' events, approvals they may decide (admins: node, schedule and trigger events). E-mailed through the environment's default SMTP channel unless a channel is named.",
        body: Type.Object({ environment: Type.String({ minLength: 1, maxLength: 63 }), events: Events, connectionId: Type.Optional(Uuid) }, { additionalProperties: false }),
        response: { 201: Subscription, ...problemResponses },
      },
    },
    async (request, reply) => {
      auditTarget(request, 'notification-subscription', undefined, { environment: request.body.environment, events: request.body.events });
      requirePermission(request, 'read', request.body.environment);
      const created = await notifications.subscribe(principalOf(request).id, request.body);
      auditTarget(request, 'notification-subscription', created.id, { environment: created.environment, events: created.events, connectionId: created.connectionId });
      return reply.code(201).send(created);
    },
  );

  app.delete(
    '/notifications/subscriptions/:id',
    { schema: { tags: ['notifications'], summary: 'Remove one of your subscriptions', params: IdParams, response: { 204: Type.Null(), ...problemResponses } } },
    async (request, reply) => {
      auditTarget(request, 'notification-subscription', request.params.id);
      await notifications.unsubscribe(principalOf(request).id, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/notifications/defaults',
    {
      schema: {
        tags: ['notifications'],
        summary: 'The default e-mail channel of each environment the caller administers',
        response: { 200: Type.Array(Type.Object({ environment: Type.String(), connectionId: Type.String() })), ...problemResponses },
      },
    },
    async (request) => notifications.defaultChannels(environmentsWhere(principalOf(request), 'administer')),
  );

  app.put(
    '/notifications/defaults/:environment',
    {
      schema: {
        tags: ['notifications'],
        summary: "The SMTP connection the environment's personal subscriptions are e-mailed through (admin there); null clears it",
        params: Type.Object({ environment: Type.String({ minLength: 1, maxLength: 63 }) }),
        body: Type.Object({ connectionId: Type.Union([Uuid, Type.Null()]) }, { additionalProperties: false }),
        response: { 200: Type.Object({ environment: Type.String(), connectionId: Type.Union([Type.String(), Type.Null()]) }), ...problemResponses },
      },
    },
    async (request) => {
      auditTarget(request, 'notification-default', request.params.environment, { connectionId: request.body.connectionId });
      requirePermission(request, 'administer', request.params.environment);
      return notifications.setDefaultChannel(request.params.environment, request.body.connectionId);
    },
  );

  app.get(
    '/notifications/locale',
    { schema: { tags: ['notifications'], summary: 'The language your notifications are written in', response: { 200: Type.Object({ locale: Locale }), ...problemResponses } } },
    async (request) => ({ locale: await notifications.locale(principalOf(request).id) }),
  );

  app.put(
    '/notifications/locale',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Choose the language of your notifications (en or pt-BR)',
        body: Type.Object({ locale: Locale }, { additionalProperties: false }),
        response: { 200: Type.Object({ locale: Locale }), ...problemResponses },
      },
    },
    async (request) => {
      auditTarget(request, 'user', principalOf(request).id, { locale: request.body.locale });
      return { locale: await notifications.setLocale(principalOf(request).id, request.body.locale) };
    },
  );
};
