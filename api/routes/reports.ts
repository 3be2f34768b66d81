import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { JarvisProblem } from '../../manifest/errors.js';
import { reportToCsv, reportToPdf } from '../../runs/run-report-export.js';
import type { RunReportService } from '../../runs/run-report.js';
import { principalOf } from '../plugins/auth.js';
import { environmentsWhere } from '../rbac.js';
import { problemResponses } from '../schemas.js';

export const REPORT_RANGES = { '24h': 24 * 3_600_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 } as const;
/** Longer ranges are allowed with from/to, up to a year. */
const MAX_RANGE_MS = 366 * 86_400_000;

const NullableNumber = Type.Union([Type.Number(), Type.Null()]);
const RunbookReport = Type.Object({
  runbook: Type.String(),
  environment: Type.String(),
  runs: Type.Integer(),
  running: Type.Integer(),
  succeeded: Type.Integer(),
  failed: Type.Integer(),
  cancelled: Type.Integer(),
  rejected: Type.Integer(),
  successRate: Type.Union([Type.Number({ description: 'Succeeded over finished runs, 0 to 1' }), Type.Null()]),
  p50Ms: NullableNumber,
  p95Ms: NullableNumber,
  mttrMs: Type.Union([Type.Number({ description: "Mean time from a failed run's end to the end of the next succeeded run" }), Type.Null()]),
  recovered: Type.Integer(),
  failuresByStep: Type.Array(Type.Object({ stepId: Type.String(), count: Type.Integer() })),
  approvalWaiting: Type.Object({ decided: Type.Integer(), meanMs: NullableNumber, p95Ms: NullableNumber }),
});
const Report = Type.Object({ from: Type.String(), to: Type.String(), rows: Type.Array(RunbookReport) });

export const reportRoutes: FastifyPluginAsyncTypebox<{ reports: RunReportService }> = async (app, { reports }) => {
  app.get(
    '/reports/runs',
    {
      schema: {
        tags: ['reports'],
        summary: 'Run figures per runbook and environment over a time range (runs started in it), in the environments the caller may read; JSON, CSV or PDF',
        querystring: Type.Object({
          range: Type.Optional(Type.Union([Type.Literal('24h'), Type.Literal('7d'), Type.Literal('30d')], { description: 'Up to now; the default is 7d unless from is given' })),
          from: Type.Optional(Type.String({ format: 'date-time' })),
          to: Type.Optional(Type.String({ format: 'date-time', description: 'Defaults to now' })),
          environment: Type.Optional(Type.String({ maxLength: 100 })),
          runbook: Type.Optional(Type.String({ maxLength: 100 })),
          format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv'), Type.Literal('pdf')], { default: 'json' })),
          lang: Type.Optional(Type.Union([Type.Literal('en'), Type.Literal('pt-BR')], { default: 'en', description: 'The language of the PDF' })),
        }),
        response: { 200: Type.Union([Report, Type.String({ description: 'CSV' }), Type.Unsafe<Buffer>({ type: 'string', format: 'binary', description: 'PDF' })]), ...problemResponses },
      },
    },
    async (request, reply) => {
      const { range, from, to, environment, runbook, format, lang } = request.query;
      if (range && from) throw new JarvisProblem('give either range or from/to, not both', 'invalid');
      const end = to ? new Date(to) : new Date();
      const start = from ? new Date(from) : new Date(end.getTime() - REPORT_RANGES[range ?? '7d']);
      if (start >= end) throw new JarvisProblem('from must be before to', 'invalid');
      if (end.getTime() - start.getTime() > MAX_RANGE_MS) throw new JarvisProblem('a report covers a year at most', 'invalid');
      const readable = environmentsWhere(principalOf(request), 'read');
      if (environment && !readable.includes(environment)) throw new JarvisProblem(`you hold no role in ${environment}`, 'forbidden');
      const report = await reports.report({ environments: environment ? [environment] : readable, from: start, to: end, ...(runbook ? { runbook } : {}) });
      const filename = `jarvis-runs-${start.toISOString().slice(0, 10)}-${end.toISOString().slice(0, 10)}`;
      if (format === 'csv') return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${filename}.csv"`).send(reportToCsv(report));
      if (format === 'pdf')
        return reply
          .type('application/pdf')
          .header('content-disposition', `attachment; filename="${filename}.pdf"`)
          .send(await reportToPdf(report, lang ?? 'en'));
      return report;
    },
  );
};
