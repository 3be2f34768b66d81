// AI Ops incidents: record, edit, read, list and import (Markdown postmortems,
// JSON or CSV exports) the incidents a team knows, so that diagnosis and the
// offline planner use them like the failures Jarvis saw itself. Writing needs
// the operator role in the incident's environment; every change is audited.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import type { RecordedIncident } from '../../ai/incident-book.js';
import type { IncidentInput } from '../../ai/incidents.js';
import { KnowledgeInputError, KnowledgeNotFoundError } from '../../ai/knowledge-documents.js';
import { JarvisProblem } from '../../manifest/errors.js';
import { requirePermission } from '../guards.js';
import { auditTarget } from '../plugins/audit.js';
import { principalOf } from '../plugins/auth.js';
import { problemResponses } from '../schemas.js';
import type { AiService } from '../services/ai-service.js';

const Environment = Type.String({ minLength: 1, maxLength: 63 });
const Name = Type.String({ minLength: 1, maxLength: 200 });
const Names = Type.Array(Name, { maxItems: 50 });
const Uuid = Type.String({ format: 'uuid' });

const IncidentFields = {
  title: Type.String({ minLength: 1, maxLength: 500 }),
  occurredAt: Type.Optional(Type.String({ format: 'date-time', description: 'When it happened (default: now)' })),
  services: Type.Optional(Names),
  nodes: Type.Optional(Names),
  symptoms: Type.Optional(Type.String({ maxLength: 20_000, description: 'What was seen: error messages, alerts, reports' })),
  cause: Type.Optional(Type.String({ maxLength: 10_000 })),
  resolution: Type.Optional(Type.String({ maxLength: 20_000 })),
  resolutionRunbook: Type.Optional(
    Type.Object(
      { name: Type.String({ minLength: 1, maxLength: 100 }), inputs: Type.Optional(Type.Record(Type.String(), Type.Unknown())) },
      { additionalProperties: false, description: 'The runbook that resolved it, with its inputs' },
    ),
  ),
  resolutionSteps: Type.Optional(
    Type.Array(
      Type.Object(
        {
          id: Type.String({ minLength: 1, maxLength: 90 }),
          title: Type.Optional(Type.String({ maxLength: 200 })),
          action: Type.String({ minLength: 1, maxLength: 100 }),
          with: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
        },
        { additionalProperties: false },
      ),
      { maxItems: 20, description: 'Catalog actions that resolved it' },
    ),
  ),
  links: Type.Optional(Type.Array(Type.String({ format: 'uri', maxLength: 2_000 }), { maxItems: 20 })),
  notes: Type.Optional(Type.String({ maxLength: 50_000, description: 'Kept, not searched: timeline, action items' })),
};

const IncidentBody = Type.Object({ environment: Environment, ...IncidentFields }, { additionalProperties: false });

const IncidentView = Type.Object({
  id: Type.String(),
  environment: Type.String(),
  ...IncidentFields,
  services: Names,
  nodes: Names,
  symptoms: Type.String(),
  cause: Type.String(),
  resolution: Type.String(),
  links: Type.Array(Type.String()),
  notes: Type.String(),
  resolutionDocumentId: Type.Optional(Type.String()),
  createdBy: Type.Union([Type.String(), Type.Null()]),
});

const ImportBody = Type.Object(
  { environment: Environment, format: Type.Union([Type.Literal('markdown'), Type.Literal('json'), Type.Literal('csv')]), content: Type.String({ minLength: 1, maxLength: 2_000_000 }) },
  { additionalProperties: false },
);

const ImportOutcomeSchema = Type.Object({
  imported: Type.Array(Type.Object({ documentId: Type.String(), title: Type.String(), resolutionDocumentId: Type.Optional(Type.String()) })),
  errors: Type.Array(Type.Object({ record: Type.Integer(), title: Type.Optional(Type.String()), message: Type.String() })),
});

function view(incident: RecordedIncident): Static<typeof IncidentView> {
  const { occurredAt, ...rest } = incident;
  return { ...rest, ...(occurredAt ? { occurredAt: occurredAt.toISOString() } : {}) };
}

function input(body: Static<typeof IncidentBody>): IncidentInput {
  return body as IncidentInput;
}

/** The knowledge base's own errors as the API's problems. */
async function problems<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof KnowledgeInputError) throw new JarvisProblem(error.message, 'invalid');
    if (error instanceof KnowledgeNotFoundError) throw new JarvisProblem(error.message, 'not-found');
    throw error;
  }
}

export const aiIncidentRoutes: FastifyPluginAsyncTypebox<{ ai: AiService }> = async (app, { ai }) => {
  app.post(
    '/ai/incidents',
    {
      schema: {
        tags: ['ai'],
        summary: 'Record an incident (symptoms, cause, resolution; a resolution may name a runbook and its inputs)',
        body: IncidentBody,
        response: { 201: IncidentView, ...problemResponses },
      },
    },
    async (request, reply) => {
      const { environment, title } = request.body;
      auditTarget(request, 'incident', undefined, { environment, title });
      requirePermission(request, 'execute', environment);
      const recorded = await problems(ai.incidents.add(input(request.body), principalOf(request).email));
      auditTarget(request, 'incident', recorded.id, { environment, title, resolutionDocumentId: recorded.resolutionDocumentId ?? null });
      return reply.code(201).send(view(recorded));
    },
  );

  app.put(
    '/ai/incidents/:id',
    {
      schema: {
        tags: ['ai'],
        summary: 'Edit an incident: it is re-embedded, and its resolution follows',
        params: Type.Object({ id: Uuid }),
        body: IncidentBody,
        response: { 200: IncidentView, ...problemResponses },
      },
    },
    async (request) => {
      const { environment, title } = request.body;
      auditTarget(request, 'incident', request.params.id, { environment, title });
      requirePermission(request, 'execute', environment);
      return view(await problems(ai.incidents.update(request.params.id, input(request.body), principalOf(request).email)));
    },
  );

  app.get(
    '/ai/incidents/:id',
    {
      schema: {
        tags: ['ai'],
        summary: 'An incident as recorded',
        params: Type.Object({ id: Uuid }),
        querystring: Type.Object({ environment: Environment }),
        response: { 200: IncidentView, ...problemResponses },
      },
    },
    async (request) => {
      requirePermission(request, 'read', request.query.environment);
      return view(await problems(ai.incidents.get(request.params.id, request.query.environment)));
    },
  );

  app.get(
    '/ai/incidents',
    {
      schema: {
        tags: ['ai'],
        summary: 'Recorded and imported incidents of an environment, newest first',
        querystring: Type.Object({ environment: Environment, limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })) }),
        response: { 200: Type.Object({ incidents: Type.Array(IncidentView) }), ...problemResponses },
      },
    },
    async (request) => {
      requirePermission(request, 'read', request.query.environment);
      return { incidents: (await ai.incidents.list(request.query.environment, request.query.limit ?? 50)).map(view) };
    },
  );

  app.post(
    '/ai/incidents/import',
    {
      schema: {
        tags: ['ai'],
        summary: 'Import incidents: Markdown postmortems (Summary, Impact, Root cause, Resolution, Timeline headings), a JSON export or a CSV export with a header row',
        body: ImportBody,
        response: { 201: ImportOutcomeSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const { environment, format } = request.body;
      auditTarget(request, 'incident', undefined, { environment, import: format });
      requirePermission(request, 'execute', environment);
      const outcome = await problems(ai.incidents.import(format, request.body.content, environment, principalOf(request).email));
      auditTarget(request, 'incident', undefined, { environment, import: format, imported: outcome.imported.length, refused: outcome.errors.length });
      return reply.code(201).send(outcome);
    },
  );
};
