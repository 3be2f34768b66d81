// AI Ops routes: diagnosis, streamed chat, plans (propose, validate, read,
// submit), knowledge search, notes and feedback. Each is checked against the
// caller's roles in the environment it is about; answers are text and plans
// run only as runs whose first step is an approval.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { PassThrough } from 'node:stream';
import { actionCatalog } from '../../activities/catalog.js';
import { KNOWLEDGE_KINDS, type KnowledgeKind } from '../../ai/knowledge-documents.js';
import { JarvisProblem } from '../../manifest/errors.js';
import type { RunService } from '../../runs/run-service.js';
import { requirePermission } from '../guards.js';
import { auditTarget } from '../plugins/audit.js';
import { principalOf } from '../plugins/auth.js';
import { problemResponses, RunIdParams } from '../schemas.js';
import type { AiPlanService } from '../services/ai-plan-service.js';
import type { AiService, ChatEvent } from '../services/ai-service.js';
import { aiIncidentRoutes } from './ai-incidents.js';

const Environment = Type.String({ minLength: 1, maxLength: 63 });
const RunId = RunIdParams.properties.id;
const Uuid = Type.String({ format: 'uuid' });
const Text = (maxLength: number) => Type.String({ minLength: 1, maxLength });

const CitationSchema = Type.Object({
  n: Type.Integer(),
  kind: Type.Union([Type.Literal('step'), Type.Literal('log'), Type.Literal('history'), Type.Literal('incident'), Type.Literal('document')]),
  runId: Type.Optional(Type.String()),
  stepId: Type.Optional(Type.String()),
  lines: Type.Optional(Type.Object({ from: Type.Integer(), to: Type.Integer() }, { description: "Sequence numbers of the run's live log lines" })),
  documentId: Type.Optional(Type.String()),
  title: Type.String(),
});

const AccountingSchema = Type.Object({ model: Type.String(), promptTokens: Type.Integer(), completionTokens: Type.Integer(), latencyMs: Type.Number(), costUsd: Type.Number() });

const DiagnosisSchema = Type.Object({
  id: Type.String({ description: 'The answer id, for feedback' }),
  cause: Type.String({ description: 'From the error signature and the first error line; never a line flagged as suspect' }),
  signature: Type.Optional(Type.Object({ id: Type.String(), cause: Type.String() }, { description: 'The known error signature the log shows (disk-full, port-in-use, ...)' })),
  suspectLines: Type.Array(Type.Object({ seq: Type.Integer(), text: Type.String() }), { description: 'Lines that address an AI assistant: data, flagged, never the cause' }),
  answer: Type.String({ description: 'Plain text with [n] citation markers' }),
  citations: Type.Array(CitationSchema),
  similarIncidents: Type.Array(
    Type.Object({
      documentId: Type.String(),
      kind: Type.String({ description: 'failed_run (a run Jarvis saw) or incident (recorded or imported)' }),
      title: Type.String(),
      score: Type.Number({ description: 'Hybrid search score: vector and full-text ranks fused (1: first in both)' }),
      similarity: Type.Number({ description: 'Cosine similarity of the best matching chunk (at least the calibrated floor)' }),
      runId: Type.Optional(Type.String()),
      resolutions: Type.Array(Type.Object({ documentId: Type.String(), title: Type.String(), weight: Type.Number(), runbook: Type.Optional(Type.String()) })),
    }),
  ),
  model: Type.Union([Type.String(), Type.Null()], { description: 'null: answered offline, from retrieval only' }),
  accounting: Type.Optional(AccountingSchema),
});

const ErrorsSchema = Type.Array(Type.Object({ path: Type.String(), message: Type.String() }));
const RiskSchema = Type.Object({
  level: Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')]),
  score: Type.Number(),
  steps: Type.Array(Type.Object({ id: Type.String(), action: Type.String(), risk: Type.String() })),
});
const ManifestSchema = Type.Object({}, { additionalProperties: true, description: 'A runbook manifest, the same shape as a runbook YAML' });

const PlanSchema = Type.Object({
  id: Type.String(),
  environment: Type.String(),
  goal: Type.String(),
  runId: Type.Optional(Type.String()),
  manifest: ManifestSchema,
  valid: Type.Boolean(),
  errors: ErrorsSchema,
  risk: RiskSchema,
  source: Type.Union([Type.Literal('model'), Type.Literal('past-resolutions')]),
  model: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union([Type.Literal('proposed'), Type.Literal('submitted'), Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('rejected')]),
  submittedRunId: Type.Optional(Type.String()),
  outcomeReason: Type.Optional(Type.String()),
  createdBy: Type.String(),
  createdAt: Type.String(),
});

const RiskLevel = Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')]);
const ActionId = Type.String({ minLength: 1, maxLength: 100 });
const PolicySchema = Type.Object(
  {
    allowedActions: Type.Union([Type.Array(ActionId, { maxItems: 500 }), Type.Null()], { description: 'Only these actions (null: every catalog action)' }),
    deniedActions: Type.Array(ActionId, { maxItems: 500 }),
    maxRisk: RiskLevel,
  },
  { additionalProperties: false, description: 'Which catalog actions AI plans may use in an environment' },
);
const EnvironmentParams = Type.Object({ environment: Type.String({ minLength: 1, maxLength: 63, pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' }) });

export interface AiRouteOptions {
  ai: AiService;
  plans: AiPlanService;
  runs: RunService;
}

function callerOf(request: Parameters<typeof principalOf>[0]) {
  const principal = principalOf(request);
  return { id: principal.id, email: principal.email };
}

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export const aiRoutes: FastifyPluginAsyncTypebox<AiRouteOptions> = async (app, { ai, plans, runs }) => {
  await app.register(aiIncidentRoutes, { ai });

  /** A run named in a request about an environment must belong to it, and the caller must be able to read it. */
  async function requireRunIn(request: Parameters<typeof principalOf>[0], runId: string, environment: string) {
    const runEnvironment = await runs.runEnvironment(runId);
    requirePermission(request, 'read', runEnvironment);
    if (runEnvironment !== environment) throw new JarvisProblem(`run ${runId} is in ${runEnvironment}, not ${environment}`, 'invalid');
  }

  app.post(
    '/ai/diagnose',
    {
      schema: {
        tags: ['ai'],
        summary: 'Why a run failed (or an answer to a question), citing its steps, log lines, history and similar past incidents with their resolutions',
        body: Type.Union([Type.Object({ runId: RunId }, { additionalProperties: false }), Type.Object({ environment: Environment, text: Text(4_000) }, { additionalProperties: false })]),
        response: { 200: DiagnosisSchema, ...problemResponses },
      },
    },
    async (request) => {
      const body = request.body;
      if ('runId' in body) {
        auditTarget(request, 'run', body.runId, { ai: 'diagnose' });
        requirePermission(request, 'read', await runs.runEnvironment(body.runId));
      } else {
        auditTarget(request, 'ai', undefined, { ai: 'diagnose', environment: body.environment });
        requirePermission(request, 'read', body.environment);
      }
      return ai.diagnose(callerOf(request), body);
    },
  );

  app.post(
    '/ai/chat',
    {
      schema: {
        tags: ['ai'],
        summary: 'A streamed answer (text/event-stream): a `citations` event first, then `delta` events ({text}), then `done` ({id, accounting, model}) or `error` (a problem)',
        body: Type.Object(
          {
            environment: Environment,
            runId: Type.Optional(RunId),
            messages: Type.Array(Type.Object({ role: Type.Union([Type.Literal('user'), Type.Literal('assistant')]), content: Text(8_000) }, { additionalProperties: false }), {
              minItems: 1,
              maxItems: 50,
            }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.String({ description: 'Server-sent events' }), ...problemResponses },
      },
    },
    async (request, reply) => {
      const { environment, runId, messages } = request.body;
      auditTarget(request, runId ? 'run' : 'ai', runId, { ai: 'chat', environment });
      requirePermission(request, 'read', environment);
      if (runId) await requireRunIn(request, runId, environment);
      if (!messages.some((message) => message.role === 'user')) throw new JarvisProblem('the conversation needs a message from the user', 'invalid');
      const stream = new PassThrough();
      const aborted = new AbortController();
      // The client went away before the answer ended: stop the model too.
      reply.raw.on('close', () => {
        if (!reply.raw.writableFinished) aborted.abort();
      });
      const emit = (event: ChatEvent) => {
        if (!stream.writableEnded) stream.write(sse(event.event, event.data));
      };
      void ai
        .chat(callerOf(request), { environment, ...(runId ? { runId } : {}), messages }, emit, aborted.signal)
        .catch((error: unknown) => {
          const status = error instanceof JarvisProblem ? 400 : 502;
          if (!(error instanceof JarvisProblem)) request.log.error({ err: error }, 'the chat answer failed');
          emit({
            event: 'error',
            data: {
              type: `https://jarvis.dev/problems/${status}`,
              title: status === 400 ? 'Bad request' : 'Bad gateway',
              status,
              detail: error instanceof JarvisProblem ? error.message : 'the model could not answer; try again later',
            },
          });
        })
        .finally(() => stream.end());
      return reply
        .code(200)
        .header('cache-control', 'no-cache')
        .header('x-accel-buffering', 'no')
        .type('text/event-stream')
        .send(stream as unknown as string);
    },
  );

  app.post(
    '/ai/plans',
    {
      schema: {
        tags: ['ai'],
        summary: 'Propose a remediation plan (a runbook of catalog actions), validated and risk-scored; it runs only if submitted and approved',
        body: Type.Object({ environment: Environment, goal: Text(2_000), runId: Type.Optional(RunId) }, { additionalProperties: false }),
        response: { 201: PlanSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const { environment, goal, runId } = request.body;
      auditTarget(request, 'ai-plan', undefined, { environment, runId: runId ?? null });
      requirePermission(request, 'execute', environment);
      if (runId) await requireRunIn(request, runId, environment);
      const plan = await plans.proposePlan(callerOf(request), { environment, goal, ...(runId ? { runId } : {}) });
      auditTarget(request, 'ai-plan', plan.id, { environment, runId: runId ?? null, valid: plan.valid, risk: plan.risk.level });
      return reply.code(201).send(plan);
    },
  );

  app.post(
    '/ai/plans/validate',
    {
      schema: {
        tags: ['ai'],
        summary: 'Validate an edited plan manifest: the runbook loader plus catalog, policy and inventory checks, and its risk',
        body: Type.Object({ environment: Environment, manifest: ManifestSchema, runId: Type.Optional(RunId) }, { additionalProperties: false }),
        response: { 200: Type.Object({ valid: Type.Boolean(), errors: ErrorsSchema, risk: RiskSchema }), ...problemResponses },
      },
    },
    async (request) => {
      const { environment, manifest, runId } = request.body;
      auditTarget(request, 'ai-plan', undefined, { environment, validate: true });
      requirePermission(request, 'execute', environment);
      if (runId) await requireRunIn(request, runId, environment);
      return plans.validateManifest(environment, manifest, runId);
    },
  );

  app.get(
    '/ai/plans/:id',
    { schema: { tags: ['ai'], summary: 'A plan with its manifest, errors, risk and status', params: Type.Object({ id: Uuid }), response: { 200: PlanSchema, ...problemResponses } } },
    async (request) => {
      requirePermission(request, 'execute', await plans.planEnvironment(request.params.id));
      return plans.getPlan(request.params.id);
    },
  );

  app.post(
    '/ai/plans/:id/submit',
    {
      schema: {
        tags: ['ai'],
        summary: 'Start the run of a valid plan: an approval first (another approver than the submitter) and one before each high-risk step; once per plan',
        params: Type.Object({ id: Uuid }),
        response: { 202: Type.Object({ runId: Type.String() }), ...problemResponses },
      },
    },
    async (request, reply) => {
      auditTarget(request, 'ai-plan', request.params.id, { submit: true });
      const environment = await plans.planEnvironment(request.params.id);
      requirePermission(request, 'execute', environment);
      const started = await plans.submitPlan(callerOf(request), request.params.id);
      auditTarget(request, 'ai-plan', request.params.id, { submit: true, environment, runId: started.runId });
      return reply.code(202).send(started);
    },
  );

  app.get(
    '/ai/search',
    {
      schema: {
        tags: ['ai'],
        summary: "Search the knowledge base of an environment (runbook descriptions are everyone's)",
        querystring: Type.Object({
          q: Text(2_000),
          environment: Environment,
          kinds: Type.Optional(Type.String({ maxLength: 200, pattern: '^[a-z_]+(,[a-z_]+)*$', description: `Comma-separated: ${KNOWLEDGE_KINDS.join(', ')}` })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 10 })),
        }),
        response: {
          200: Type.Object({
            hits: Type.Array(
              Type.Object({
                documentId: Type.String(),
                kind: Type.String(),
                title: Type.String(),
                snippet: Type.String(),
                score: Type.Number(),
                runId: Type.Optional(Type.String()),
                createdAt: Type.String(),
              }),
            ),
          }),
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const { q, environment, kinds, limit } = request.query;
      requirePermission(request, 'read', environment);
      const wanted = kinds?.split(',');
      const unknown = wanted?.filter((kind) => !(KNOWLEDGE_KINDS as readonly string[]).includes(kind));
      if (unknown?.length) throw new JarvisProblem(`unknown kind ${unknown.join(', ')} (use ${KNOWLEDGE_KINDS.join(', ')})`, 'invalid');
      return { hits: await ai.search(callerOf(request), environment, q, wanted as KnowledgeKind[] | undefined, limit ?? 10) };
    },
  );

  app.post(
    '/ai/notes',
    {
      schema: {
        tags: ['ai'],
        summary: 'Add a note to the knowledge base, optionally about a run or as the resolution of an incident',
        body: Type.Object(
          { environment: Environment, title: Text(500), body: Type.String({ maxLength: 100_000 }), runId: Type.Optional(RunId), incidentId: Type.Optional(Uuid) },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ documentId: Type.String() }), ...problemResponses },
      },
    },
    async (request, reply) => {
      const { environment, runId } = request.body;
      auditTarget(request, 'knowledge', undefined, { environment, note: true });
      requirePermission(request, 'execute', environment);
      if (runId) await requireRunIn(request, runId, environment);
      const documentId = await ai.addNote(callerOf(request), request.body);
      auditTarget(request, 'knowledge', documentId, { environment, note: true });
      return reply.code(201).send({ documentId });
    },
  );

  app.get(
    '/ai/status',
    {
      schema: {
        tags: ['ai'],
        summary: 'Where answers come from: the chat model (null when none is configured: answers from retrieval only) and the embedding model (lexical when local)',
        querystring: Type.Object({ environment: EnvironmentParams.properties.environment }, { additionalProperties: false }),
        response: { 200: Type.Object({ model: Type.Union([Type.String(), Type.Null()]), embeddingModel: Type.String(), lexical: Type.Boolean() }), ...problemResponses },
      },
    },
    async (request) => {
      requirePermission(request, 'read', request.query.environment);
      return ai.status();
    },
  );

  app.get(
    '/ai/policies/:environment',
    { schema: { tags: ['ai'], summary: 'Which catalog actions AI plans may use in an environment', params: EnvironmentParams, response: { 200: PolicySchema, ...problemResponses } } },
    async (request) => {
      requirePermission(request, 'read', request.params.environment);
      return plans.policy(request.params.environment);
    },
  );

  app.put(
    '/ai/policies/:environment',
    {
      schema: {
        tags: ['ai'],
        summary: 'Set which catalog actions AI plans may use in an environment (allowed list or every action, denied list, highest risk)',
        params: EnvironmentParams,
        body: PolicySchema,
        response: { 200: PolicySchema, ...problemResponses },
      },
    },
    async (request) => {
      const { environment } = request.params;
      auditTarget(request, 'ai-policy', environment, { ...request.body });
      requirePermission(request, 'administer', environment);
      const unknown = [...(request.body.allowedActions ?? []), ...request.body.deniedActions].filter((action) => !actionCatalog.find(action));
      if (unknown.length > 0) throw new JarvisProblem(`not catalog actions: ${unknown.join(', ')}`, 'invalid');
      return plans.setPolicy(environment, request.body);
    },
  );

  app.post(
    '/ai/feedback',
    {
      schema: {
        tags: ['ai'],
        summary: 'Thumbs up or down on an answer (or any knowledge document): weighs it in future retrieval',
        body: Type.Object(
          {
            environment: Environment,
            answerId: Type.Optional(Uuid),
            documentId: Type.Optional(Uuid),
            vote: Type.Union([Type.Literal('up'), Type.Literal('down')]),
            reason: Type.Optional(Type.String({ maxLength: 2_000 })),
          },
          { additionalProperties: false },
        ),
        response: { 204: Type.Null(), ...problemResponses },
      },
    },
    async (request, reply) => {
      const { environment, answerId, documentId, vote, reason } = request.body;
      auditTarget(request, 'knowledge', answerId ?? documentId, { environment, vote, ...(reason ? { reason } : {}) });
      requirePermission(request, 'read', environment);
      await ai.feedback({ environment, vote, ...(answerId ? { answerId } : {}), ...(documentId ? { documentId } : {}) });
      return reply.code(204).send(null);
    },
  );
};
