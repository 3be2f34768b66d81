// `jarvis retention show|set|purge|purges`: how long each environment keeps its
// runs, logs and artifacts, and the purges that enforce it, through the API.
import type { Command } from 'commander';
import { JarvisProblem } from '../../manifest/errors.js';
import { parseRetention, RETENTION_KINDS, type RetentionKind } from '../../retention/retention-policies.js';
import type { PurgeReport } from '../../retention/purge-activities.js';
import type { CliContext } from '../context.js';
import { outputOption } from '../options.js';
import { printData, renderTable, type OutputFormat } from '../output.js';

interface RetentionView {
  environment: string;
  runs: string;
  logs: string;
  artifacts: string;
  set: Record<RetentionKind, string | null>;
  updatedBy: string | null;
}

const shown = (view: RetentionView, kind: RetentionKind) => `${view[kind]}${view.set[kind] === null ? ' (default)' : ''}`;
const retentionColumns = [
  { header: 'env', value: (view: RetentionView) => view.environment },
  { header: 'runs', value: (view: RetentionView) => shown(view, 'runs') },
  { header: 'logs', value: (view: RetentionView) => shown(view, 'logs') },
  { header: 'artifacts', value: (view: RetentionView) => shown(view, 'artifacts') },
  { header: 'set by', value: (view: RetentionView) => view.updatedBy ?? '' },
];

function renderReports(reports: PurgeReport[]): string {
  return renderTable(reports, [
    { header: 'purge', value: (report) => report.id },
    { header: 'by', value: (report) => report.requestedBy ?? report.trigger },
    { header: 'dry', value: (report) => (report.dryRun ? 'yes' : '') },
    { header: 'status', value: (report) => report.status },
    { header: 'started', value: (report) => report.startedAt },
    { header: 'runs', value: (report) => report.totals.runs },
    { header: 'log lines', value: (report) => report.totals.logLines },
    { header: 'histories', value: (report) => report.totals.histories },
    { header: 'artifacts', value: (report) => report.totals.artifacts },
  ]);
}

export function registerRetentionCommands(program: Command, context: CliContext): void {
  const retention = program.command('retention').description('how long runs, logs and artifacts are kept, and the purges that enforce it (admins)');

  retention
    .command('show')
    .description("the retention of an environment (or of every one you administer, with Temporal's namespace retention)")
    .option('-e, --environment <environment>')
    .addOption(outputOption())
    .action(async (options: { environment?: string; output: OutputFormat }) => {
      if (options.environment)
        return printData(options.output, await context.api().call<RetentionView>('GET', `/environments/${encodeURIComponent(options.environment)}/retention`), (view) =>
          renderTable([view], retentionColumns),
        );
      const overview = await context.api().call<{ namespaceRetention: string | null; environments: RetentionView[] }>('GET', '/admin/retention');
      printData(
        options.output,
        overview,
        (data) => `${renderTable(data.environments, retentionColumns)}\nTemporal keeps closed executions ${data.namespaceRetention ?? '(unknown)'} (the longest runs retention)`,
      );
    });

  retention
    .command('set')
    .description("change an environment's retention: durations such as 90d or 36h, or `default`")
    .requiredOption('-e, --environment <environment>')
    .option('--runs <duration>', 'runs: their rows and Temporal histories (at least 1d)')
    .option('--logs <duration>', "the runs' log lines")
    .option('--artifacts <duration>', "the runs' artifacts")
    .addOption(outputOption())
    .action(async (options: Partial<Record<RetentionKind, string>> & { environment: string; output: OutputFormat }) => {
      const change: Partial<Record<RetentionKind, string | null>> = {};
      for (const kind of RETENTION_KINDS) {
        const value = options[kind];
        if (value === undefined) continue;
        if (value === 'default') {
          change[kind] = null;
          continue;
        }
        const parsed = parseRetention(kind, value);
        if ('problem' in parsed) throw new JarvisProblem(`--${kind}: ${parsed.problem}`, 'invalid');
        change[kind] = value;
      }
      if (Object.keys(change).length === 0) throw new JarvisProblem('give at least one of --runs, --logs, --artifacts', 'invalid');
      const view = await context.api().call<RetentionView & { namespaceRetention: string | null }>('PUT', `/environments/${encodeURIComponent(options.environment)}/retention`, change);
      printData(options.output, view, (data) => `${renderTable([data], retentionColumns)}\nTemporal keeps closed executions ${data.namespaceRetention ?? '(unknown)'}`);
    });

  retention
    .command('purge')
    .description('purge run history past its retention now, and print the report')
    .option('--dry-run', 'count what would be removed, remove nothing')
    .addOption(outputOption())
    .action(async (options: { dryRun?: boolean; output: OutputFormat }) => {
      const report = await context.api().call<PurgeReport>('POST', '/admin/retention/purge', { dryRun: options.dryRun ?? false });
      printData(options.output, report, (data) =>
        [
          renderTable(data.environments, [
            { header: 'env', value: (counts) => counts.environment },
            { header: 'runs', value: (counts) => counts.runs },
            { header: 'log lines', value: (counts) => counts.logLines },
            { header: 'histories', value: (counts) => counts.histories },
            { header: 'artifact runs', value: (counts) => counts.artifactRuns },
            { header: 'artifacts', value: (counts) => counts.artifacts },
          ]),
          `${data.dryRun ? 'Would remove' : 'Removed'} ${data.totals.runs} runs, ${data.totals.logLines} log lines (purge ${data.id}, ${data.status}${data.error ? `: ${data.error}` : ''})`,
        ].join('\n'),
      );
      if (report.status !== 'succeeded') process.exitCode = 1;
    });

  retention
    .command('purges')
    .description('past purges, newest first')
    .option('--limit <n>', 'at most this many', (value) => Number.parseInt(value, 10), 20)
    .addOption(outputOption())
    .action(async (options: { limit: number; output: OutputFormat }) => {
      printData(options.output, await context.api().call<PurgeReport[]>('GET', `/admin/retention/purges?limit=${options.limit}`), renderReports);
    });
}
