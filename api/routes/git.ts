// Runbooks from Git: `POST /git/sync` (an admin of the environment) and the
// webhook `POST /webhooks/git/:environment/:connection` as GitHub, GitLab and
// Gitea/Forgejo send it (see services/git-webhook.ts for how each signs).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requirePermission } from '../guards.js';
import { auditTarget } from '../plugins/audit.js';
import { principalOf } from '../plugins/auth.js';
import { sendProblem } from '../plugins/errors.js';
import { problemResponses } from '../schemas.js';
import type { GitSyncService } from '../services/git-sync-service.js';
import type { GitWebhookService } from '../services/git-webhook-service.js';

const SyncResult = Type.Object({
  commit: Type.String(),
  imported: Type.Array(Type.Object({ name: Type.String(), version: Type.String() })),
  stacks: Type.Array(Type.String()),
  deployed: Type.Array(Type.Object({ stack: Type.String(), runId: Type.String() }), { description: 'deploy-stack runs started for stacks marked deploy: auto' }),
});
const Target = { environment: Type.String({ minLength: 1, maxLength: 63 }), connection: Type.String({ minLength: 1, maxLength: 100 }) };

const WebhookAnswer = Type.Object({
  outcome: Type.Union([Type.Literal('synced'), Type.Literal('ignored'), Type.Literal('duplicate'), Type.Literal('pong')]),
  detail: Type.String(),
  host: Type.Union([Type.Literal('github'), Type.Literal('gitlab'), Type.Literal('gitea')]),
  event: Type.String(),
  delivery: Type.Optional(Type.String()),
  sync: Type.Optional(SyncResult),
});

export const gitRoutes: FastifyPluginAsyncTypebox<{ git: GitSyncService; webhooks: GitWebhookService }> = async (app, { git, webhooks }) => {
  app.post(
    '/git/sync',
    {
      schema: {
        tags: ['runbooks'],
        summary: "Fetch a git connection's repository and import the runbooks its orch.yaml lists (all or nothing)",
        body: Type.Object(Target, { additionalProperties: false }),
        response: { 200: SyncResult, ...problemResponses },
      },
    },
    async (request) => {
      auditTarget(request, 'git', request.body.connection, { environment: request.body.environment });
      requirePermission(request, 'administer', request.body.environment);
      return git.sync(request.body.environment, request.body.connection, principalOf(request).id);
    },
  );

  // The webhook is signed over its exact bytes: keep them, for JSON and for forms alike (these parsers apply to this plugin only).
  await app.register(async (hooks) => {
    const keepBytes = { parseAs: 'buffer' as const, bodyLimit: 1024 * 1024 };
    hooks.addContentTypeParser('application/json', keepBytes, (_request, body, done) => done(null, body));
    hooks.addContentTypeParser('application/x-www-form-urlencoded', keepBytes, (_request, body, done) => done(null, body));
    hooks.post(
      '/webhooks/git/:environment/:connection',
      {
        config: { public: true },
        schema: {
          tags: ['runbooks'],
          summary: "Git host webhook (GitHub, GitLab, Gitea/Forgejo): a push to the connection's branch re-syncs it; pings, tags, other branches and other events are answered without a sync",
          params: Type.Object(Target),
          response: { 200: WebhookAnswer, 202: WebhookAnswer, ...problemResponses },
        },
      },
      async (request, reply) => {
        const { environment, connection } = request.params as { environment: string; connection: string };
        auditTarget(request, 'git', connection, { environment, via: 'webhook' });
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const result = await webhooks.receive(environment, connection, request.headers, body);
        if (!('answer' in result)) return sendProblem(reply, result.status, result.detail);
        const { outcome, host, event, delivery } = result.answer;
        auditTarget(request, 'git', connection, { environment, via: 'webhook', host, event, outcome, ...(delivery ? { delivery } : {}) });
        return reply.code(result.status).send(result.answer);
      },
    );
  });
};
