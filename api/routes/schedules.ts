import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { JarvisProblem } from '../../manifest/errors.js';
import { OVERLAP_POLICIES, SchedulePoliciesBody, ScheduleSpecBody } from '../../schedules/schedule-definition.js';
import type { ScheduleService } from '../../schedules/schedule-service.js';
import { requirePermission } from '../guards.js';
import { auditTarget } from '../plugins/audit.js';
import { principalOf } from '../plugins/auth.js';
import { environmentsWhere } from '../rbac.js';
import { problemResponses } from '../schemas.js';

const Fire = Type.Object({
  scheduledAt: Type.String(),
  firedAt: Type.String(),
  outcome: Type.String(),
  runId: Type.Union([Type.String(), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()]),
});
const Schedule = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  runbook: Type.String(),
  environment: Type.String(),
  owner: Type.String({ description: 'Runs start as this user; their right to start the runbook is checked at every fire' }),
  definition: Type.Object({ spec: ScheduleSpecBody, policies: SchedulePoliciesBody }),
  state: Type.Union([Type.Literal('active'), Type.Literal('paused'), Type.Literal('missing')]),
  note: Type.String(),
  nextFires: Type.Array(Type.String()),
  fires: Type.Array(Fire, { description: 'Recent fires, newest first: started (with the run), refused (with the reason) or skipped' }),
  createdAt: Type.String(),
});
const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const Overlap = Type.Union(OVERLAP_POLICIES.map((name) => Type.Literal(name)));
const Note = Type.String({ maxLength: 500 });

export const scheduleRoutes: FastifyPluginAsyncTypebox<{ schedules: ScheduleService }> = async (app, { schedules }) => {
  /** The schedule, named in the audit entry, after checking the caller may act on its environment. */
  const scheduleFor = async (request: FastifyRequest, id: string, permission: 'read' | 'execute') => {
    const row = await schedules.find(id);
    auditTarget(request, 'schedule', row.id, { name: row.name, environment: row.environment });
    requirePermission(request, permission, row.environment);
    return row;
  };

  app.get(
    '/schedules',
    {
      schema: {
        tags: ['schedules'],
        summary: 'Schedules of the environments you can read, with their state and next fires',
        querystring: Type.Object({ environment: Type.Optional(Type.String({ maxLength: 100 })) }),
        response: { 200: Type.Array(Schedule), ...problemResponses },
      },
    },
    async (request) => {
      const readable = environmentsWhere(principalOf(request), 'read');
      const { environment } = request.query;
      if (environment && !readable.includes(environment)) throw new JarvisProblem(`you hold no role in ${environment}`, 'forbidden');
      return schedules.list(environment ? [environment] : readable);
    },
  );

  app.post(
    '/schedules',
    {
      schema: {
        tags: ['schedules'],
        summary: 'Schedule a runbook: you become its owner, and each fire starts the run as you (while you may still start it)',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[a-z0-9][a-z0-9-]*$' }),
            description: Type.Optional(Type.String({ maxLength: 1000 })),
            runbook: Type.String({ minLength: 1, maxLength: 100 }),
            environment: Type.String({ minLength: 1, maxLength: 100 }),
            inputs: Type.Optional(Type.Object({}, { additionalProperties: true })),
            spec: ScheduleSpecBody,
            policies: Type.Optional(SchedulePoliciesBody),
            paused: Type.Optional(Type.Boolean()),
            note: Type.Optional(Note),
          },
          { additionalProperties: false },
        ),
        response: { 201: Schedule, ...problemResponses },
      },
    },
    async (request, reply) => {
      const { body } = request;
      auditTarget(request, 'schedule', undefined, { name: body.name, runbook: body.runbook, environment: body.environment });
      requirePermission(request, 'execute', body.environment);
      const created = await schedules.create(principalOf(request), { ...body, inputs: body.inputs ?? {}, policies: body.policies ?? {} });
      auditTarget(request, 'schedule', created.id, { name: created.name, runbook: created.runbook, environment: created.environment });
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/schedules/:id',
    { schema: { tags: ['schedules'], summary: 'One schedule with its next fires and recent fires', params: IdParams, response: { 200: Schedule, ...problemResponses } } },
    async (request) => {
      await scheduleFor(request, request.params.id, 'read');
      return schedules.show(request.params.id);
    },
  );

  for (const [verb, act] of [
    ['pause', (id: string, note: string) => schedules.pause(id, note)],
    ['unpause', (id: string, note: string) => schedules.unpause(id, note)],
  ] as const) {
    app.post(
      `/schedules/:id/${verb}`,
      {
        schema: {
          tags: ['schedules'],
          summary: verb === 'pause' ? 'Pause: no fire until unpaused; the note says why' : 'Unpause, with a note',
          params: IdParams,
          body: Type.Optional(Type.Object({ note: Type.Optional(Note) }, { additionalProperties: false })),
          response: { 200: Schedule, ...problemResponses },
        },
      },
      async (request) => {
        await scheduleFor(request, request.params.id, 'execute');
        const note = request.body?.note || `${verb}d by ${principalOf(request).email}`;
        return act(request.params.id, note);
      },
    );
  }

  app.post(
    '/schedules/:id/trigger',
    {
      schema: {
        tags: ['schedules'],
        summary: 'Fire now, even while an earlier fire runs unless `overlap` says otherwise (the owner\'s right is checked, as at every fire)',
        params: IdParams,
        body: Type.Optional(Type.Object({ overlap: Type.Optional(Overlap) }, { additionalProperties: false })),
        response: { 202: Type.Object({ triggered: Type.Boolean() }), ...problemResponses },
      },
    },
    async (request, reply) => {
      await scheduleFor(request, request.params.id, 'execute');
      await schedules.trigger(request.params.id, request.body?.overlap);
      return reply.code(202).send({ triggered: true });
    },
  );

  app.post(
    '/schedules/:id/backfill',
    {
      schema: {
        tags: ['schedules'],
        summary: 'Fire once for every time the schedule names in [start, end), as if it had run then (default overlap: allow-all, one run per time)',
        params: IdParams,
        body: Type.Object({ start: Type.String({ maxLength: 40 }), end: Type.String({ maxLength: 40 }), overlap: Type.Optional(Overlap) }, { additionalProperties: false }),
        response: { 202: Type.Object({ backfilled: Type.Boolean() }), ...problemResponses },
      },
    },
    async (request, reply) => {
      await scheduleFor(request, request.params.id, 'execute');
      const [start, end] = [request.body.start, request.body.end].map((text) => {
        const time = new Date(text);
        if (Number.isNaN(time.getTime())) throw new JarvisProblem(`"${text}" is not a date and time (use ISO 8601, e.g. 2026-12-01T00:00:00Z)`, 'invalid');
        return time;
      });
      await schedules.backfill(request.params.id, start!, end!, request.body.overlap ?? 'allow-all');
      return reply.code(202).send({ backfilled: true });
    },
  );

  app.delete(
    '/schedules/:id',
    { schema: { tags: ['schedules'], summary: 'Delete a schedule (its runs stay)', params: IdParams, response: { 204: Type.Null(), ...problemResponses } } },
    async (request, reply) => {
      await scheduleFor(request, request.params.id, 'execute');
      await schedules.delete(request.params.id);
      return reply.code(204).send(null);
    },
  );
};
