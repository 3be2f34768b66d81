import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import type { FastifyRequest } from 'fastify';
import { JarvisProblem } from '../../manifest/errors.js';
import { approvalBlocker } from '../../workflows/approval-rule.js';
import type { RunLocation } from '../../runs/run-contract.js';
import { idempotencyToken } from '../../runs/run-ids.js';
import type { RunService } from '../../runs/run-service.js';
import type { RetentionService } from '../services/retention-service.js';
import { BULK_DEFAULT_LIMIT, BULK_MAX_LIMIT, type BulkRunService } from '../services/bulk-run-service.js';
import { auditTarget } from '../plugins/audit.js';
import { principalOf } from '../plugins/auth.js';
import { requirePermission } from '../guards.js';
import { environmentsWhere, rolesIn, type Permission } from '../rbac.js';
import { problemResponses, RunIdParams, StepParams } from '../schemas.js';

const RunSummary = Type.Object({
  id: Type.String(),
  runId: Type.String(),
  runbook: Type.Optional(Type.String()),
  environment: Type.Optional(Type.String()),
  startedBy: Type.Optional(Type.String()),
  rerunOf: Type.Optional(Type.String()),
  status: Type.String(),
  startedAt: Type.String(),
  closedAt: Type.Optional(Type.String()),
  held: Type.Optional(Type.Boolean({ description: 'Held out of retention purges' })),
});
const RunDetails = Type.Object({}, { additionalProperties: true, description: 'The run with its progress (steps, attempts, timings, outputs, errors)' });
const TimelineEntry = Type.Object({
  stepId: Type.String(),
  kind: Type.String(),
  target: Type.String(),
  forStep: Type.Optional(Type.String()),
  scheduledAt: Type.String(),
  lastAttemptStartedAt: Type.Optional(Type.String()),
  endedAt: Type.Optional(Type.String()),
  attempts: Type.Integer(),
  status: Type.String(),
  failure: Type.Optional(Type.String()),
  input: Type.Optional(Type.String({ description: "The step's arguments as JSON, secrets masked" })),
  output: Type.Optional(Type.String({ description: "The step's output as JSON, secrets masked" })),
});
const StartedRun = Type.Object({ id: Type.String(), runId: Type.String() });
const TargetStatus = Type.Union([Type.Literal('pending'), Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('skipped')]);
const TargetResult = Type.Object({
  node: Type.String(),
  batch: Type.Integer(),
  status: Type.String(),
  attempts: Type.Integer(),
  startedAt: Type.Optional(Type.String()),
  endedAt: Type.Optional(Type.String()),
  durationMs: Type.Optional(Type.Number()),
  outputSummary: Type.Optional(Type.String()),
  error: Type.Optional(Type.String()),
  compensation: Type.Optional(Type.Object({ status: Type.String(), error: Type.Optional(Type.String()) })),
});
const ApprovalAnswer = Type.Object({ stepId: Type.String(), decision: Type.String(), approvals: Type.Integer(), required: Type.Integer() });

const BulkResult = Type.Object({
  runId: Type.String(),
  runbook: Type.Optional(Type.String()),
  environment: Type.Optional(Type.String()),
  status: Type.String({ description: 'The status the run was selected with' }),
  ok: Type.Boolean(),
  newRunId: Type.Optional(Type.String({ description: 'rerun: the new run; resume: the new execution' })),
  replayed: Type.Optional(Type.Boolean({ description: 'rerun: an earlier try of this bulk request had already started it' })),
  error: Type.Optional(Type.String()),
});

/**
 * The optional body of a re-run, `{"targets": "failed" | "same"}`, checked by
 * hand: a body schema would refuse the bodiless re-runs every client sends.
 */
function rerunTargetsOf(body: unknown): 'failed' | 'same' | undefined {
  if (body === undefined || body === null || body === '') return undefined;
  const fields = typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
  const unknown = fields ? Object.keys(fields).filter((key) => key !== 'targets') : [];
  if (!fields || unknown.length > 0 || (fields.targets !== undefined && fields.targets !== 'failed' && fields.targets !== 'same')) {
    throw new JarvisProblem('the request is invalid: the body may only be {"targets": "failed"} or {"targets": "same"}', 'invalid');
  }
  return fields.targets as 'failed' | 'same' | undefined;
}

export const runRoutes: FastifyPluginAsyncTypebox<{ runs: RunService; bulk: BulkRunService; holds: Pick<RetentionService, 'findHold' | 'archivedHistory'> }> = async (app, { runs, bulk, holds }) => {
  /**
   * Authorizes an action on a run by the role the caller holds in the run's
   * environment; what follows acts on the execution that was authorized.
   */
  async function authorizeRun(request: FastifyRequest, id: string, permission: Permission): Promise<RunLocation> {
    const location = await runs.locateRun(id);
    requirePermission(request, permission, location.environment);
    return location;
  }

  app.get(
    '/runs',
    {
      schema: {
        tags: ['runs'],
        summary: 'Runs in the environments the caller may read, newest first; the X-Next-Cursor header gives the next page',
        querystring: Type.Object({
          status: Type.Optional(Type.String({ maxLength: 30 })),
          runbook: Type.Optional(Type.String({ maxLength: 100 })),
          environment: Type.Optional(Type.String({ maxLength: 100 })),
          startedBy: Type.Optional(Type.String({ maxLength: 200 })),
          schedule: Type.Optional(Type.String({ format: 'uuid', description: 'Only runs this schedule started' })),
          startedAfter: Type.Optional(Type.String({ format: 'date-time', description: 'Only runs started at or after this time' })),
          startedBefore: Type.Optional(Type.String({ format: 'date-time', description: 'Only runs started before this time' })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
          cursor: Type.Optional(Type.String({ maxLength: 4_000, pattern: '^[A-Za-z0-9_.-]+$', description: 'The X-Next-Cursor header of the previous page' })),
        }),
        response: { 200: Type.Array(RunSummary), ...problemResponses },
      },
    },
    async (request, reply) => {
      const readable = environmentsWhere(principalOf(request), 'read');
      const { environment, ...filter } = request.query;
      if (environment && !readable.includes(environment)) throw new JarvisProblem(`you hold no role in ${environment}`, 'forbidden');
      const page = await runs.listRunPage({ ...filter, environments: environment ? [environment] : readable });
      if (page.nextCursor) void reply.header('x-next-cursor', page.nextCursor);
      return page.runs;
    },
  );

  app.post(
    '/runs/bulk',
    {
      schema: {
        tags: ['runs'],
        summary:
          'Cancel, re-run or resume every run a filter (or a list of ids) selects, in the environments where the caller may execute; one result per run. dryRun lists them only; an Idempotency-Key header makes a retried request act on each run once',
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) }),
        body: Type.Object(
          {
            action: Type.Union([Type.Literal('cancel'), Type.Literal('rerun'), Type.Literal('resume')]),
            runIds: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 300 }), { minItems: 1, maxItems: BULK_MAX_LIMIT, description: 'Exactly these runs, instead of a filter' })),
            filter: Type.Optional(
              Type.Object(
                {
                  runbook: Type.Optional(Type.String({ maxLength: 100 })),
                  environment: Type.Optional(Type.String({ maxLength: 100 })),
                  status: Type.Optional(Type.String({ maxLength: 30 })),
                  startedBy: Type.Optional(Type.String({ maxLength: 200 })),
                  startedAfter: Type.Optional(Type.String({ format: 'date-time' })),
                  startedBefore: Type.Optional(Type.String({ format: 'date-time' })),
                },
                { additionalProperties: false },
              ),
            ),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: BULK_MAX_LIMIT, default: BULK_DEFAULT_LIMIT })),
            dryRun: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ id: Type.String(), action: Type.String(), dryRun: Type.Boolean(), selected: Type.Integer(), results: Type.Array(BulkResult) }), ...problemResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const key = request.headers['idempotency-key'];
      const answer = await bulk.perform(
        {
          id: principal.id,
          email: principal.email,
          executable: environmentsWhere(principal, 'execute'),
          ip: request.ip,
          ...(request.headers['user-agent'] ? { userAgent: request.headers['user-agent'].slice(0, 500) } : {}),
        },
        { ...request.body, ...(key ? { idempotencyKey: key } : {}) },
      );
      const failed = answer.results.filter((result) => !result.ok).length;
      auditTarget(request, 'runs', answer.id, {
        action: answer.action,
        dryRun: answer.dryRun,
        ...(request.body.filter ? { filter: request.body.filter } : {}),
        ...(request.body.runIds ? { runIds: request.body.runIds } : {}),
        selected: answer.selected,
        failed,
      });
      return answer;
    },
  );

  app.get(
    '/runs/stats',
    {
      schema: {
        tags: ['runs'],
        summary: 'Dashboard figures over the environments the caller may read: running runs, failures in 24 h, finished runs per day by outcome with p95 duration',
        querystring: Type.Object({ days: Type.Optional(Type.Integer({ minimum: 1, maximum: 90, default: 14 })), environment: Type.Optional(Type.String({ maxLength: 100 })) }),
        response: { 200: Type.Object({}, { additionalProperties: true }), ...problemResponses },
      },
    },
    async (request) => {
      const readable = environmentsWhere(principalOf(request), 'read');
      const { environment, days } = request.query;
      if (environment && !readable.includes(environment)) throw new JarvisProblem(`you hold no role in ${environment}`, 'forbidden');
      return runs.runStatistics(environment ? [environment] : readable, days ?? 14);
    },
  );

  app.get(
    '/approvals',
    {
      schema: {
        tags: ['runs'],
        summary: 'Approval steps waiting in the environments where the caller may approve, oldest first; canDecide says whether this caller may decide each',
        response: { 200: Type.Array(Type.Object({}, { additionalProperties: true })), ...problemResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const waiting = await runs.waitingApprovals(environmentsWhere(principal, 'approve'));
      return waiting.map((entry) => {
        const roles = principal.grants.filter((grant) => grant.environment === entry.environment).map((grant) => grant.role);
        const blocker = approvalBlocker({ user: principal.email, roles, startedBy: entry.startedBy, step: entry.step, decision: 'approve', now: Date.now() });
        return { ...entry, canDecide: blocker === undefined, ...(blocker ? { blockedBecause: blocker.reason } : {}) };
      });
    },
  );

  app.get('/runs/:id', { schema: { tags: ['runs'], summary: 'One run with its progress', params: RunIdParams, response: { 200: RunDetails, ...problemResponses } } }, async (request) => {
    // Read first (one describe instead of two), refuse before answering.
    const details = await runs.showRun(request.params.id);
    requirePermission(request, 'read', details.environment ?? '');
    // A held run is kept out of every purge (retention): `hold` says by whom and why.
    const hold = await holds.findHold(request.params.id);
    return { ...details, ...(hold ? { hold } : {}) };
  });

  app.get(
    '/runs/:id/timeline',
    {
      schema: {
        tags: ['runs'],
        summary: "The run's step timeline from its Temporal history: scheduled, last attempt started, ended, attempts, failure",
        params: RunIdParams,
        response: { 200: Type.Array(TimelineEntry), ...problemResponses },
      },
    },
    async (request) => {
      const { executionId } = await authorizeRun(request, request.params.id, 'read');
      return runs.timeline(request.params.id, executionId);
    },
  );

  app.get(
    '/runs/:id/inputs',
    {
      schema: {
        tags: ['runs'],
        summary: 'The inputs the run was started with (secret ones masked), to show or compare with another run',
        params: RunIdParams,
        response: { 200: Type.Object({ runbook: Type.String(), version: Type.String(), inputs: Type.Object({}, { additionalProperties: true }) }), ...problemResponses },
      },
    },
    async (request) => {
      const { executionId } = await authorizeRun(request, request.params.id, 'read');
      return runs.runInputs(request.params.id, executionId);
    },
  );

  app.get(
    '/runs/:id/history',
    {
      schema: {
        tags: ['runs'],
        summary: "The run's Temporal history as JSON, for download or replay (a held run's archived copy once Temporal dropped it)",
        params: RunIdParams,
        response: { 200: Type.Object({}, { additionalProperties: true }), ...problemResponses },
      },
    },
    async (request, reply) => {
      const { executionId } = await authorizeRun(request, request.params.id, 'read');
      let history: string;
      try {
        history = historyToJSON(await runs.fetchHistory(request.params.id, executionId));
      } catch (error) {
        // A held run outlives its Temporal history (the namespace's retention): its archived copy answers.
        const archived = error instanceof JarvisProblem && error.kind === 'not-found' ? await holds.archivedHistory(request.params.id, executionId) : undefined;
        if (archived === undefined) throw error;
        history = JSON.stringify(archived);
      }
      return reply
        .header('content-disposition', `attachment; filename="${request.params.id.replace(/[^A-Za-z0-9._-]/g, '_')}.history.json"`)
        .type('application/json')
        .send(history);
    },
  );

  app.get(
    '/runs/:id/targets',
    {
      schema: {
        tags: ['runs'],
        summary: "A page of a fleet step's targets with their results (status, attempts, duration, output summary, error, compensation); the X-Next-Cursor header gives the next page",
        params: RunIdParams,
        querystring: Type.Object({
          step: Type.Optional(Type.String({ maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9_-]*$', description: "The fleet step's id; the run's first fleet step when absent" })),
          status: Type.Optional(TargetStatus),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000, default: 100 })),
          cursor: Type.Optional(Type.String({ maxLength: 12, pattern: '^[0-9]+$', description: 'The X-Next-Cursor header of the previous page' })),
        }),
        response: { 200: Type.Object({ stepId: Type.String(), targets: Type.Array(TargetResult), next: Type.Optional(Type.String({ description: 'The cursor of the next page (also the X-Next-Cursor header)' })) }), ...problemResponses },
      },
    },
    async (request, reply) => {
      const { executionId } = await authorizeRun(request, request.params.id, 'read');
      const { step, status, limit, cursor } = request.query;
      const page = await runs.fleetTargets(request.params.id, { ...(step ? { stepId: step } : {}), ...(status ? { status } : {}), limit: limit ?? 100, ...(cursor ? { cursor } : {}) }, executionId);
      if (page.next) void reply.header('x-next-cursor', page.next);
      return page;
    },
  );

  app.post(
    '/runs/:id/cancel',
    { schema: { tags: ['runs'], summary: 'Cancel a running run; completed steps are compensated', params: RunIdParams, response: { 202: Type.Object({ id: Type.String() }), ...problemResponses } } },
    async (request, reply) => {
      auditTarget(request, 'run', request.params.id);
      const { executionId } = await authorizeRun(request, request.params.id, 'execute');
      await runs.cancelRun(request.params.id, executionId);
      return reply.code(202).send({ id: request.params.id });
    },
  );

  app.post(
    '/runs/:id/rerun',
    {
      schema: {
        tags: ['runs'],
        summary:
          'A new run with the same manifest version and inputs; an Idempotency-Key header makes a retried request return the same run. targets: "failed" runs its fleet steps on the failed targets only, "same" on the targets the run resolved',
        params: RunIdParams,

        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) }),
        response: { 200: StartedRun, 201: StartedRun, ...problemResponses },
      },
    },
    async (request, reply) => {
      auditTarget(request, 'run', request.params.id);
      const { executionId } = await authorizeRun(request, request.params.id, 'execute');
      const principal = principalOf(request);
      const key = request.headers['idempotency-key'];
      // As for a start, the key makes the new run's workflow id: a retry after a crash finds the one re-run.
      const targets = rerunTargetsOf(request.body);
      const idempotency = key ? idempotencyToken(principal.id, `rerun of ${request.params.id}${targets ? ` on ${targets} targets` : ''}\n${key}`) : undefined;
      const started = await runs.rerun(request.params.id, principal.email, executionId, idempotency, targets);
      auditTarget(request, 'run', request.params.id, { newRun: started.id, ...(targets ? { targets } : {}), ...(started.replayed ? { replayed: true } : {}) });
      return reply.code(started.replayed ? 200 : 201).send({ id: started.id, runId: started.runId });
    },
  );

  app.post(
    '/runs/:id/resume',
    {
      schema: {
        tags: ['runs'],
        summary: 'Resume a failed run from its failed step',
        params: RunIdParams,
        response: { 202: Type.Object({ id: Type.String(), runId: Type.String(), fromStep: Type.String() }), ...problemResponses },
      },
    },
    async (request, reply) => {
      auditTarget(request, 'run', request.params.id);
      const { executionId } = await authorizeRun(request, request.params.id, 'execute');
      return reply.code(202).send(await runs.resume(request.params.id, principalOf(request).email, executionId));
    },
  );

  app.post(
    '/runs/:id/steps/:step/approve',
    {
      schema: {
        tags: ['approvals'],
        summary: 'Approve a waiting step (not your own run, unless the runbook allows it)',
        params: StepParams,
        body: Type.Optional(Type.Object({ comment: Type.Optional(Type.String({ maxLength: 2000 })) }, { additionalProperties: false })),
        response: { 200: ApprovalAnswer, ...problemResponses },
      },
    },
    async (request) => {
      const { id, step } = request.params;
      auditTarget(request, 'run-step', `${id}/${step}`);
      const { environment, executionId } = await authorizeRun(request, id, 'read');
      const principal = principalOf(request);
      const answer = await runs.approveStep(id, step, principal.email, rolesIn(principal, environment), request.body?.comment, executionId);
      app.metrics.approvals.inc({ decision: 'approve' });
      return answer;
    },
  );

  app.post(
    '/runs/:id/steps/:step/reject',
    {
      schema: {
        tags: ['approvals'],
        summary: 'Reject a waiting step; the run ends rejected and compensates',
        params: StepParams,
        body: Type.Object({ reason: Type.String({ minLength: 1, maxLength: 2000 }) }, { additionalProperties: false }),
        response: { 200: ApprovalAnswer, ...problemResponses },
      },
    },
    async (request) => {
      const { id, step } = request.params;
      auditTarget(request, 'run-step', `${id}/${step}`, { reason: request.body.reason });
      const { environment, executionId } = await authorizeRun(request, id, 'read');
      const principal = principalOf(request);
      const answer = await runs.rejectStep(id, step, principal.email, rolesIn(principal, environment), request.body.reason, executionId);
      app.metrics.approvals.inc({ decision: 'reject' });
      return answer;
    },
  );
};
