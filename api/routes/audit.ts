import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requireAdministrator } from '../guards.js';
import { problemResponses } from '../schemas.js';
import type { AuditEntryView, AuditService } from '../services/audit-service.js';

const Entry = Type.Object({
  id: Type.String(),
  at: Type.String(),
  actorEmail: Type.Union([Type.String(), Type.Null()]),
  action: Type.String(),
  targetType: Type.String(),
  targetId: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  outcome: Type.String(),
  details: Type.Unknown(),
});
const Filter = Type.Object({
  actor: Type.Optional(Type.String({ maxLength: 200, description: 'Actor email' })),
  action: Type.Optional(Type.String({ maxLength: 200, description: 'Text the action contains, e.g. execute' })),
  outcome: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('denied'), Type.Literal('pending')])),
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 200 })),
});

const CSV_COLUMNS: Array<keyof AuditEntryView> = ['id', 'at', 'actorEmail', 'action', 'targetType', 'targetId', 'ip', 'userAgent', 'outcome', 'details'];

function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  // Quote everything; a leading formula character is neutralised so spreadsheets do not execute it.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return `"${safe.replace(/"/g, '""')}"`;
}

export const auditRoutes: FastifyPluginAsyncTypebox<{ audit: AuditService }> = async (app, { audit }) => {
  app.get(
    '/audit',
    { schema: { tags: ['audit'], summary: 'The audit log, newest first', querystring: Filter, response: { 200: Type.Array(Entry), ...problemResponses } } },
    async (request) => {
      requireAdministrator(request);
      return audit.findEntries(request.query);
    },
  );

  app.get(
    '/audit.csv',
    { schema: { tags: ['audit'], summary: 'The audit log as CSV', querystring: Filter } },
    async (request, reply) => {
      requireAdministrator(request);
      const entries = await audit.findEntries(request.query);
      const csv = [CSV_COLUMNS.join(','), ...entries.map((entry) => CSV_COLUMNS.map((column) => csvCell(entry[column])).join(','))].join('\r\n');
      return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="jarvis-audit.csv"').send(`${csv}\r\n`);
    },
  );
};
