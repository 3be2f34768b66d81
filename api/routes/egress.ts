// Each environment's egress allowlist: which non-public addresses, ranges and
// host names its http and notify actions may reach. Anyone with a role there
// reads it; only its admins change it, and every change is audited.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { EgressAllowlistStore } from '../../infra/egress-allowlist-store.js';
import { requirePermission } from '../guards.js';
import { auditTarget } from '../plugins/audit.js';
import { principalOf } from '../plugins/auth.js';
import { problemResponses } from '../schemas.js';

const EnvironmentParams = Type.Object({ environment: Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-z0-9][a-z0-9-]*$' }) });
const Entry = Type.String({
  minLength: 1,
  maxLength: 255,
  description: 'An address (127.0.0.1), a CIDR range (10.0.0.0/8, fd00::/8), a host name (health.internal) or *.domain (its subdomains)',
});
const AllowlistBody = Type.Object({ entries: Type.Array(Entry, { maxItems: 500 }) }, { additionalProperties: false });
const AllowlistSchema = Type.Object(
  {
    environment: Type.String(),
    entries: Type.Array(Type.String()),
    updatedBy: Type.Union([Type.String(), Type.Null()], { description: 'null: never set' }),
    updatedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  {
    description:
      'Non-public targets the http and notify actions of an environment may reach. Loopback, link-local, private, CGNAT, multicast, reserved and metadata addresses are refused unless listed; a metadata address (169.254.169.254) only when listed exactly.',
  },
);

export const egressRoutes: FastifyPluginAsyncTypebox<{ allowlists: EgressAllowlistStore }> = async (app, { allowlists }) => {
  app.get(
    '/environments/:environment/egress-allowlist',
    {
      schema: {
        tags: ['admin'],
        summary: 'Which non-public addresses and host names the http and notify actions of an environment may reach',
        params: EnvironmentParams,
        response: { 200: AllowlistSchema, ...problemResponses },
      },
    },
    async (request) => {
      requirePermission(request, 'read', request.params.environment);
      return allowlists.view(request.params.environment);
    },
  );

  app.put(
    '/environments/:environment/egress-allowlist',
    {
      schema: {
        tags: ['admin'],
        summary: 'Replace the egress allowlist of an environment (admin there only)',
        params: EnvironmentParams,
        body: AllowlistBody,
        response: { 200: AllowlistSchema, ...problemResponses },
      },
    },
    async (request) => {
      const { environment } = request.params;
      auditTarget(request, 'egress-allowlist', environment, { entries: request.body.entries });
      requirePermission(request, 'administer', environment);
      return allowlists.replace(environment, request.body.entries, principalOf(request).email);
    },
  );
};
