import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { RunbookCatalog } from '../../manifest/catalog.js';
import { parseYaml } from '../../manifest/loader.js';
import { JarvisProblem } from '../../manifest/errors.js';
import { idempotencyToken } from '../../runs/run-ids.js';
import type { RunService } from '../../runs/run-service.js';
import { requireAdministrator } from '../guards.js';
import { auditTarget } from '../plugins/audit.js';
import { principalOf } from '../plugins/auth.js';
import { environmentsWhere, mayStartRunbook, startRefusal } from '../rbac.js';
import { problemResponses, RunbookNameParams } from '../schemas.js';
import type { IdempotencyKeyService } from '../services/idempotency-key-service.js';
import type { RunbookVersionService } from '../services/runbook-version-service.js';

const RunbookSummary = Type.Object({ name: Type.String(), title: Type.String(), description: Type.String(), category: Type.String(), tags: Type.Array(Type.String()), valid: Type.Boolean() });
const StartedRun = Type.Object({ id: Type.String(), runId: Type.Optional(Type.String({ description: 'The Temporal execution; absent when an Idempotency-Key replays an earlier start' })) });
const ManifestError = Type.Object({ path: Type.String(), message: Type.String() });

export interface RunbookRouteOptions {
  catalog: RunbookCatalog;
  runs: RunService;
  idempotencyKeys: IdempotencyKeyService;
  versions: RunbookVersionService;
}

const Version = Type.Object({ name: Type.String(), version: Type.String(), source: Type.String(), active: Type.Boolean(), importedAt: Type.String() });

export const runbookRoutes: FastifyPluginAsyncTypebox<RunbookRouteOptions> = async (app, { catalog, runs, idempotencyKeys, versions }) => {
  app.get(
    '/runbooks',
    {
      schema: {
        tags: ['runbooks'],
        summary: 'The runbook catalog',
        querystring: Type.Object({
          category: Type.Optional(Type.String({ maxLength: 100 })),
          tag: Type.Optional(Type.String({ maxLength: 100 })),
          q: Type.Optional(Type.String({ maxLength: 200, description: 'Text to find in name, title or description' })),
        }),
        response: { 200: Type.Array(RunbookSummary), ...problemResponses },
      },
    },
    async (request) => {
      const { category, tag, q } = request.query;
      const text = q?.toLowerCase();
      return catalog
        .list()
        .filter((entry) => (!category || entry.category === category) && (!tag || entry.tags.includes(tag)))
        .filter((entry) => !text || `${entry.name} ${entry.title} ${entry.description}`.toLowerCase().includes(text))
        .map((entry) => ({ name: entry.name, title: entry.title, description: entry.description, category: entry.category, tags: entry.tags, valid: entry.errors.length === 0 }));
    },
  );

  app.get(
    '/runbooks/:name',
    {
      schema: {
        tags: ['runbooks'],
        summary: 'One runbook with its input JSON Schema and steps',
        params: RunbookNameParams,
        response: { 200: Type.Object({}, { additionalProperties: true }), ...problemResponses },
      },
    },
    async (request) => runs.compileRunbook(request.params.name).runbook,
  );

  app.post(
    '/runbooks/validate',
    {
      schema: {
        tags: ['runbooks'],
        summary: 'Check a manifest (YAML text) and list every mistake with its path',
        body: Type.Object({ manifest: Type.String({ minLength: 1, maxLength: 200_000 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ valid: Type.Boolean(), errors: Type.Array(ManifestError), version: Type.Optional(Type.String()) }), ...problemResponses },
      },
    },
    async (request) => {
      if (environmentsWhere(principalOf(request), 'execute').length === 0) throw new JarvisProblem('validating manifests needs the operator role somewhere', 'forbidden');
      auditTarget(request, 'runbook');
      const parsed = parseYaml(request.body.manifest);
      const result = parsed.errors.length > 0 ? { ok: false as const, errors: parsed.errors } : catalog.compileValue(parsed.value);
      return result.ok ? { valid: true, errors: [], version: result.compiled.runbook.version } : { valid: false, errors: result.errors };
    },
  );

  app.post(
    '/runbooks/import',
    {
      schema: {
        tags: ['runbooks'],
        summary: 'Import a manifest (YAML) as the active version of its runbook (admin in every environment the new and the replaced version run in); a manifest with mistakes is refused',
        body: Type.Object({ manifest: Type.String({ minLength: 1, maxLength: 200_000 }) }, { additionalProperties: false }),
        response: { 201: Version, ...problemResponses },
      },
    },
    async (request, reply) => {
      auditTarget(request, 'runbook');
      requireAdministrator(request);
      const principal = principalOf(request);
      const prepared = versions.prepare(request.body.manifest);
      // Named before the scope check, so a refusal is audited with the runbook and the environments it would have changed.
      auditTarget(request, 'runbook', prepared.name, { version: prepared.version, environments: prepared.reaches });
      const scope = { environments: environmentsWhere(principal, 'administer'), importer: 'you', rule: 'that needs the admin role in each' };
      const imported = await versions.importManifest(prepared, principal.id, scope);
      return reply.code(201).send(imported);
    },
  );

  app.get(
    '/runbooks/:name/versions',
    { schema: { tags: ['runbooks'], summary: 'Imported versions of a runbook, newest first', params: RunbookNameParams, response: { 200: Type.Array(Version), ...problemResponses } } },
    async (request) => versions.versions(request.params.name),
  );

  app.post(
    '/runbooks/:name/execute',
    {
      schema: {
        tags: ['runbooks'],
        summary: 'Start a run; an Idempotency-Key header makes a retried request return the same run',
        params: RunbookNameParams,
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) }),
        body: Type.Object({ environment: Type.String({ minLength: 1, maxLength: 100 }), inputs: Type.Optional(Type.Object({}, { additionalProperties: true })) }, { additionalProperties: false }),
        response: { 200: StartedRun, 201: StartedRun, ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { environment } = request.body;
      const compiled = runs.compileRunbook(request.params.name);
      auditTarget(request, 'runbook', compiled.runbook.name, { environment });
      if (!mayStartRunbook(principal, compiled.runbook, environment)) throw new JarvisProblem(startRefusal(compiled.runbook, environment), 'forbidden');
      const key = request.headers['idempotency-key'];
      if (key) {
        const earlier = await idempotencyKeys.startedRun(principal.id, key);
        if (earlier) {
          auditTarget(request, 'run', earlier, { runbook: compiled.runbook.name, environment, replayed: true });
          return reply.code(200).send({ id: earlier });
        }
      }
      // The key makes the workflow id (RunService.startRun): a retry after a crash before the row below is written still finds the one run.
      const idempotency = key ? { idempotency: idempotencyToken(principal.id, key) } : {};
      const started = await runs.startRun({ runbook: compiled, inputs: request.body.inputs ?? {}, environment, startedBy: principal.email, ...idempotency });
      if (key) await idempotencyKeys.remember(principal.id, key, started.id);
      auditTarget(request, 'run', started.id, { runbook: compiled.runbook.name, environment, ...(started.replayed ? { replayed: true } : {}) });
      if (started.replayed) return reply.code(200).send({ id: started.id, runId: started.runId });
      app.metrics.runsStarted.inc({ runbook: compiled.runbook.name, environment });
      return reply.code(201).send({ id: started.id, runId: started.runId });
    },
  );
};
