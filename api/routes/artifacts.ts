// The artifacts of a run: listed and downloaded with the run's own rule, a
// role in the run's environment. A download streams the stored bytes with
// their checksum; the file name offered is a safe form of the step's name.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { ArtifactStoreError } from '../../artifacts/artifact-store.js';
import type { RunArtifact, RunArtifacts } from '../../artifacts/run-artifacts.js';
import { safeFileName } from '../../artifacts/safe-file-name.js';
import { JarvisProblem } from '../../manifest/errors.js';
import type { RunService } from '../../runs/run-service.js';
import { requirePermission } from '../guards.js';
import { principalOf } from '../plugins/auth.js';
import { problemResponses, RunIdParams } from '../schemas.js';
import type { AuditService } from '../services/audit-service.js';

const ArtifactSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String({ description: 'The name the step gave it (metadata only: never a path on any disk)' }),
  stepId: Type.String(),
  attempt: Type.Integer(),
  executionId: Type.String(),
  contentType: Type.String(),
  size: Type.Integer(),
  sha256: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
});

function shown(artifact: RunArtifact) {
  const { id, name, stepId, attempt, executionId, contentType, size, sha256, createdAt } = artifact;
  return { id, name, stepId, attempt, executionId, contentType, size, sha256, createdAt };
}

export const artifactRoutes: FastifyPluginAsyncTypebox<{ runs: RunService; artifacts: RunArtifacts; audit: AuditService }> = async (app, { runs, artifacts, audit }) => {
  /** As reading the run: a role in its environment (404 for a run that does not exist); the environment authorized. */
  async function authorizeRead(request: FastifyRequest, id: string): Promise<string> {
    const location = await runs.locateRun(id);
    requirePermission(request, 'read', location.environment);
    return location.environment;
  }

  app.get(
    '/runs/:id/artifacts',
    {
      schema: {
        tags: ['runs'],
        summary: 'The artifacts steps of the run published (dumps, recaps, files), oldest first',
        params: RunIdParams,
        response: { 200: Type.Array(ArtifactSchema), ...problemResponses },
      },
    },
    async (request) => {
      const environment = await authorizeRead(request, request.params.id);
      // Only what was published in the environment authorized, whatever another execution under the same id did.
      return (await artifacts.list(request.params.id)).filter((artifact) => artifact.environment === environment).map(shown);
    },
  );

  app.get(
    '/runs/:id/artifacts/:artifactId',
    {
      schema: {
        tags: ['runs'],
        summary: 'Download one artifact; X-Checksum-Sha256 and the ETag carry its SHA-256 to verify it',
        params: Type.Object({ id: RunIdParams.properties.id, artifactId: Type.String({ format: 'uuid' }) }),
        response: { 200: Type.Any({ description: 'The artifact’s bytes' }), ...problemResponses },
      },
    },
    async (request, reply) => {
      const { id, artifactId } = request.params;
      const environment = await authorizeRead(request, id);
      const artifact = await artifacts.get(id, artifactId);
      if (!artifact || artifact.environment !== environment) throw new JarvisProblem(`run ${id} has no artifact ${artifactId}`, 'not-found');
      const body = await artifacts.open(artifact).catch((error: unknown) => {
        // The row stands but its bytes cannot be read (the store is down, or the object was removed by hand).
        if (error instanceof ArtifactStoreError) throw new JarvisProblem(`artifact ${artifact.name} cannot be read from its store: ${error.message}`, 'unavailable');
        throw error;
      });
      // Who took a copy of what (a dump holds a database): reads of artifacts are audited too.
      const principal = principalOf(request);
      await audit.record({
        actorId: principal.id,
        actorEmail: principal.email,
        action: 'run.artifact.download',
        targetType: 'run',
        targetId: id,
        ip: request.ip,
        ...(request.headers['user-agent'] ? { userAgent: request.headers['user-agent'].slice(0, 500) } : {}),
        outcome: 'success',
        details: { artifact: artifact.id, name: artifact.name, size: artifact.size, sha256: artifact.sha256 },
      });
      const fileName = safeFileName(artifact.name);
      return reply
        .header('content-type', artifact.contentType)
        .header('content-length', String(artifact.size))
        .header('content-disposition', `attachment; filename="${fileName}"`)
        .header('x-checksum-sha256', artifact.sha256)
        .header('etag', `"${artifact.sha256}"`)
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'private, no-store')
        .send(body);
    },
  );
};
