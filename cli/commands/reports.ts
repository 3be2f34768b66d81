// `jarvis report`: run figures per runbook and environment over a time range,
// through the API (RBAC applies), printed as a table or exported.
import { writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { JarvisProblem } from '../../manifest/errors.js';
import { humanDuration, type RunReport } from '../../runs/run-report.js';
import type { CliContext } from '../context.js';
import { renderTable } from '../output.js';

interface ReportOptions {
  range?: '24h' | '7d' | '30d';
  from?: string;
  to?: string;
  env?: string;
  runbook?: string;
  format: 'table' | 'json' | 'csv' | 'pdf';
  lang: 'en' | 'pt-BR';
  out?: string;
}

function isoTime(value: string, option: string): string {
  const time = new Date(value);
  if (Number.isNaN(time.getTime())) throw new JarvisProblem(`${option} is not a time: ${value}`, 'invalid');
  return time.toISOString();
}

const percent = (rate: number | null) => (rate === null ? '' : `${(rate * 100).toFixed(1)}%`);

export function registerReportCommands(program: Command, context: CliContext): void {
  program
    .command('report')
    .description('run figures per runbook and environment over a time range: success rate, p50/p95 duration, time to recovery, failures by step, approval waiting')
    .addOption(new Option('--range <range>', 'up to now (default 7d unless --from is given)').choices(['24h', '7d', '30d']))
    .option('--from <time>', 'the start of the range (ISO 8601)')
    .option('--to <time>', 'the end of the range (ISO 8601, default now)')
    .option('-e, --env <environment>', 'one environment (default: every one you may read)')
    .option('--runbook <name>', 'one runbook')
    .addOption(new Option('-f, --format <format>', 'table, json, csv or pdf (pdf needs --out)').choices(['table', 'json', 'csv', 'pdf']).default('table'))
    .addOption(new Option('--lang <language>', 'the language of the PDF').choices(['en', 'pt-BR']).default('en'))
    .option('-o, --out <file>', 'write to this file instead of standard output')
    .action(async (options: ReportOptions) => {
      if (options.format === 'pdf' && !options.out) throw new JarvisProblem('a PDF report needs --out FILE', 'invalid');
      const query = new URLSearchParams({ format: options.format === 'table' ? 'json' : options.format, lang: options.lang });
      if (options.range) query.set('range', options.range);
      if (options.from) query.set('from', isoTime(options.from, '--from'));
      if (options.to) query.set('to', isoTime(options.to, '--to'));
      if (options.env) query.set('environment', options.env);
      if (options.runbook) query.set('runbook', options.runbook);
      const path = `/reports/runs?${query}`;
      const output = (content: string | Buffer) => {
        if (options.out) {
          writeFileSync(options.out, content);
          console.error(`Wrote ${options.out}`);
        } else {
          process.stdout.write(content);
        }
      };
      if (options.format === 'pdf') return output(await context.api().bytes('GET', path));
      if (options.format === 'csv') return output(await context.api().text('GET', path));
      const report = await context.api().call<RunReport>('GET', path);
      if (options.format === 'json') return output(`${JSON.stringify(report, null, 2)}\n`);
      const table = renderTable(report.rows, [
        { header: 'runbook', value: (row) => row.runbook },
        { header: 'environment', value: (row) => row.environment },
        { header: 'runs', value: (row) => row.runs },
        { header: 'succeeded', value: (row) => row.succeeded },
        { header: 'failed', value: (row) => row.failed },
        { header: 'success', value: (row) => percent(row.successRate) },
        { header: 'p50', value: (row) => humanDuration(row.p50Ms) },
        { header: 'p95', value: (row) => humanDuration(row.p95Ms) },
        { header: 'mttr', value: (row) => humanDuration(row.mttrMs) },
        { header: 'approval wait', value: (row) => humanDuration(row.approvalWaiting.meanMs) },
        { header: 'failures by step', value: (row) => row.failuresByStep.map((entry) => `${entry.stepId}:${entry.count}`).join(' ') },
      ]);
      output(`${report.from} → ${report.to}\n${report.rows.length === 0 ? '(no runs)' : table}\n`);
    });
}
