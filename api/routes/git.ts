// Runbooks from Git: `POST /git/sync` (an admin of the environment) and the
// push webhook `POST /webhooks/git/:environment/:connection`, signed like
// GitHub's (X-Hub-Signature-256: sha256=HMAC of the raw body with the
// connection's webhookSecret).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { requirePermission } from '../guards.js';
import { auditTarget } from '../plugins/audit.js';
import { principalOf } from '../plugins/auth.js';
import { sendProblem } from '../plugins/errors.js';
import { problemResponses } from '../schemas.js';
import type { GitSyncService } from '../services/git-sync-service.js';

const SyncResult = Type.Object({ commit: Type.String(), imported: Type.Array(Type.Object({ name: Type.String(), version: Type.String() })), stacks: Type.Array(Type.String()) });
const Target = { environment: Type.String({ minLength: 1, maxLength: 63 }), connection: Type.String({ minLength: 1, maxLength: 100 }) };

function signatureMatches(secret: string, body: Buffer, header: string | undefined): boolean {
  if (!header?.startsWith('sha256=')) return false;
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export const gitRoutes: FastifyPluginAsyncTypebox<{ git: GitSyncService }> = async (app, { git }) => {
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

  // The webhook is signed over its exact bytes: keep them (this parser applies to this plugin only).
  await app.register(async (hooks) => {
    hooks.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: 1024 * 1024 }, (_request, body, done) => done(null, body));
    hooks.post(
      '/webhooks/git/:environment/:connection',
      {
        config: { public: true },
        schema: { tags: ['runbooks'], summary: 'Push webhook: re-sync the repository of a git connection (signed with its webhookSecret)', params: Type.Object(Target), response: { 200: SyncResult, ...problemResponses } },
      },
      async (request, reply) => {
        const { environment, connection } = request.params as { environment: string; connection: string };
        auditTarget(request, 'git', connection, { environment, via: 'webhook' });
        const secret = await git.webhookSecret(environment, connection).catch(() => undefined);
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const header = request.headers['x-hub-signature-256'];
        if (!secret || !signatureMatches(secret, body, typeof header === 'string' ? header : undefined)) {
          return sendProblem(reply, 401, 'the webhook signature is missing or wrong (X-Hub-Signature-256 with the connection’s webhookSecret)');
        }
        return git.sync(environment, connection, null);
      },
    );
  });
};
