// Retention of run history: each environment's retention (its admins), holds
// on runs (operators there) and purges with their reports (admins). Every
// change is audited.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { RunService } from '../../runs/run-service.js';
import { requireAdministrator, requirePermission } from '../guards.js';
import { auditTarget } from '../plugins/audit.js';
import { principalOf } from '../plugins/auth.js';
import { environmentsWhere } from '../rbac.js';
import { problemResponses, RunIdParams } from '../schemas.js';
import type { RetentionService } from '../services/retention-service.js';

const EnvironmentParams = Type.Object({ environment: Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-z0-9][a-z0-9-]*$' }) });
const Duration = Type.String({ minLength: 2, maxLength: 20, pattern: '^\\s*(\\d+(ms|s|m|h|d))+\\s*$', description: 'A duration such as 90d, 36h or 1d12h' });
const Durations = { runs: Type.String(), logs: Type.String(), artifacts: Type.String() };
const RetentionSchema = Type.Object(
  {
    environment: Type.String(),
    ...Durations,
    set: Type.Object(
      { runs: Type.Union([Type.String(), Type.Null()]), logs: Type.Union([Type.String(), Type.Null()]), artifacts: Type.Union([Type.String(), Type.Null()]) },
      { description: 'What admins set; null: the default' },
    ),
    defaults: Type.Object(Durations, { description: "The installation's defaults (JARVIS_RETENTION_*)" }),
    updatedBy: Type.Union([Type.String(), Type.Null()]),
    updatedAt: Type.Union([Type.String(), Type.Null()]),
    namespaceRetention: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: "Temporal's namespace retention after the change" })),
  },
  { description: 'How long the environment keeps its runs (rows and Temporal histories), their log lines and their artifacts' },
);
const RetentionChange = Type.Object(
  { runs: Type.Optional(Type.Union([Duration, Type.Null()])), logs: Type.Optional(Type.Union([Duration, Type.Null()])), artifacts: Type.Optional(Type.Union([Duration, Type.Null()])) },
  { additionalProperties: false, minProperties: 1, description: 'The retentions to change (null: back to the default); the others stay' },
);
const Counts = { runs: Type.Integer(), logLines: Type.Integer(), histories: Type.Integer(), artifactRuns: Type.Integer(), artifacts: Type.Integer() };
const PurgeReportSchema = Type.Object({
  id: Type.String(),
  trigger: Type.String({ description: 'schedule or manual' }),
  requestedBy: Type.Union([Type.String(), Type.Null()]),
  dryRun: Type.Boolean(),
  status: Type.String({ description: 'running, succeeded or failed' }),
  error: Type.Union([Type.String(), Type.Null()]),
  startedAt: Type.String(),
  finishedAt: Type.Union([Type.String(), Type.Null()]),
  environments: Type.Array(Type.Object({ environment: Type.String(), ...Counts })),
  totals: Type.Object(Counts),
});
export const RunHoldSchema = Type.Object({
  reason: Type.String(),
  heldBy: Type.String(),
  heldAt: Type.String(),
  historyArchivedAt: Type.Union([Type.String(), Type.Null()], { description: 'null while the run runs: the next purge after it closed archives its history' }),
});

export const retentionRoutes: FastifyPluginAsyncTypebox<{ retention: RetentionService; runs: RunService }> = async (app, { retention, runs }) => {
  app.get(
    '/admin/retention',
    {
      schema: {
        tags: ['admin'],
        summary: "The retention of every environment the caller administers, and Temporal's namespace retention",
        response: { 200: Type.Object({ namespaceRetention: Type.Union([Type.String(), Type.Null()]), environments: Type.Array(RetentionSchema) }), ...problemResponses },
      },
    },
    async (request) => {
      requireAdministrator(request);
      return retention.overview(environmentsWhere(principalOf(request), 'administer'));
    },
  );

  app.get(
    '/environments/:environment/retention',
    {
      schema: {
        tags: ['admin'],
        summary: 'How long an environment keeps its runs, logs and artifacts (admin there)',
        params: EnvironmentParams,
        response: { 200: RetentionSchema, ...problemResponses },
      },
    },
    async (request) => {
      requirePermission(request, 'administer', request.params.environment);
      return retention.view(request.params.environment);
    },
  );

  app.put(
    '/environments/:environment/retention',
    {
      schema: {
        tags: ['admin'],
        summary: "Change an environment's retention (admin there); Temporal's namespace retention follows the longest runs retention",
        params: EnvironmentParams,
        body: RetentionChange,
        response: { 200: RetentionSchema, ...problemResponses },
      },
    },
    async (request) => {
      const { environment } = request.params;
      auditTarget(request, 'retention', environment, { ...request.body });
      requirePermission(request, 'administer', environment);
      const updated = await retention.update(environment, request.body, principalOf(request).email);
      auditTarget(request, 'retention', environment, { ...request.body, namespaceRetention: updated.namespaceRetention });
      return updated;
    },
  );

  app.post(
    '/runs/:id/hold',
    {
      schema: {
        tags: ['runs'],
        summary: "Hold a run: no purge removes it, its logs, artifacts or history (operator in the run's environment)",
        params: RunIdParams,
        body: Type.Object({ reason: Type.String({ minLength: 1, maxLength: 1000 }) }, { additionalProperties: false }),
        response: { 200: RunHoldSchema, ...problemResponses },
      },
    },
    async (request) => {
      const { id } = request.params;
      auditTarget(request, 'run', id, { hold: true, reason: request.body.reason });
      const { environment } = await runs.locateRun(id);
      requirePermission(request, 'execute', environment);
      return retention.hold(id, environment, request.body.reason, principalOf(request).email);
    },
  );

  app.delete(
    '/runs/:id/hold',
    {
      schema: { tags: ['runs'], summary: "Release a held run: purges apply to it again (operator in the run's environment)", params: RunIdParams, response: { 204: Type.Null(), ...problemResponses } },
    },
    async (request, reply) => {
      const { id } = request.params;
      auditTarget(request, 'run', id, { hold: false });
      const { environment } = await runs.locateRun(id);
      requirePermission(request, 'execute', environment);
      await retention.release(id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/admin/retention/purge',
    {
      schema: {
        tags: ['admin'],
        summary: 'Purge run history past its retention now (admin) and answer the report; dryRun counts what would go and deletes nothing',
        body: Type.Optional(Type.Object({ dryRun: Type.Optional(Type.Boolean()) }, { additionalProperties: false })),
        response: { 200: PurgeReportSchema, ...problemResponses },
      },
    },
    async (request) => {
      const dryRun = request.body?.dryRun ?? false;
      auditTarget(request, 'retention', 'purge', { dryRun });
      requireAdministrator(request);
      const report = await retention.purgeNow(principalOf(request).email, dryRun);
      auditTarget(request, 'retention', report.id, { dryRun, status: report.status, totals: report.totals });
      return report;
    },
  );

  app.get(
    '/admin/retention/purges',
    {
      schema: {
        tags: ['admin'],
        summary: 'Past purges, newest first, with what each removed per environment (admin)',
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })) }),
        response: { 200: Type.Array(PurgeReportSchema), ...problemResponses },
      },
    },
    async (request) => {
      requireAdministrator(request);
      return retention.listPurges({ limit: request.query.limit ?? 50 });
    },
  );
};
