// `jarvis ai incidents add|edit|import|list|show`: the incidents a team knows,
// recorded in the knowledge base through the API (roles and audit apply).
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { formatOfFile, type ImportFormat } from '../../ai/incident-import.js';
import { JarvisProblem } from '../../manifest/errors.js';
import type { CliContext } from '../context.js';
import { collect, outputOption } from '../options.js';
import { printData, type OutputFormat } from '../output.js';

interface IncidentView {
  id: string;
  title: string;
  environment: string;
  occurredAt?: string;
  services: string[];
  nodes: string[];
  symptoms: string;
  cause: string;
  resolution: string;
  resolutionRunbook?: { name: string; inputs?: Record<string, unknown> };
  links: string[];
  resolutionDocumentId?: string;
}

interface ImportOutcome {
  imported: Array<{ documentId: string; title: string; resolutionDocumentId?: string }>;
  errors: Array<{ record: number; title?: string; message: string }>;
}

function keyValues(pairs: string[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new JarvisProblem(`"${pair}" is not key=value`, 'invalid');
    values[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return values;
}

function renderIncident(incident: IncidentView): string {
  return [
    `Incident ${incident.id}`,
    `Title     ${incident.title}`,
    `Env       ${incident.environment}${incident.occurredAt ? `    at ${incident.occurredAt}` : ''}`,
    incident.services.length || incident.nodes.length ? `Affected  ${[...incident.services, ...incident.nodes].join(', ')}` : '',
    incident.symptoms ? `Symptoms  ${incident.symptoms}` : '',
    incident.cause ? `Cause     ${incident.cause}` : '',
    incident.resolution ? `Resolved  ${incident.resolution}` : '',
    incident.resolutionRunbook
      ? `Runbook   ${incident.resolutionRunbook.name} ${Object.entries(incident.resolutionRunbook.inputs ?? {})
          .map(([key, value]) => `${key}=${String(value)}`)
          .join(' ')}`
      : '',
    ...incident.links.map((link) => `Link      ${link}`),
  ]
    .filter(Boolean)
    .join('\n');
}

export function registerAiIncidentCommands(ai: Command, context: CliContext): void {
  const incidents = ai.command('incidents').description('incidents the knowledge base learns from: recorded, or imported from postmortems and exports');

  incidents
    .command('add')
    .description('record an incident; diagnosis and the offline planner use it like a failure Jarvis saw')
    .requiredOption('-e, --env <environment>', 'the environment it happened in')
    .requiredOption('--title <title>', 'what happened, in a line')
    .option('--time <iso-time>', 'when it happened (default: now)')
    .option('--symptoms <text>', 'what was seen: error messages, alerts')
    .option('--cause <text>', 'the root cause')
    .option('--resolution <text>', 'what fixed it')
    .option('--runbook <name>', 'the runbook that fixed it')
    .option('-i, --input <key=value>', 'an input of that runbook (repeatable)', collect, [])
    .option('--service <name>', 'an affected service (repeatable)', collect, [])
    .option('--node <name>', 'an affected node (repeatable)', collect, [])
    .option('--link <url>', 'a link: ticket, postmortem, dashboard (repeatable)', collect, [])
    .addOption(outputOption())
    .action(
      async (options: {
        env: string;
        title: string;
        time?: string;
        symptoms?: string;
        cause?: string;
        resolution?: string;
        runbook?: string;
        input: string[];
        service: string[];
        node: string[];
        link: string[];
        output: OutputFormat;
      }) => {
        if (options.input.length > 0 && !options.runbook) throw new JarvisProblem('--input gives inputs of --runbook: name the runbook', 'invalid');
        const body = {
          environment: options.env,
          title: options.title,
          ...(options.time ? { occurredAt: new Date(options.time).toISOString() } : {}),
          ...(options.symptoms ? { symptoms: options.symptoms } : {}),
          ...(options.cause ? { cause: options.cause } : {}),
          ...(options.resolution ? { resolution: options.resolution } : {}),
          ...(options.runbook ? { resolutionRunbook: { name: options.runbook, inputs: keyValues(options.input) } } : {}),
          services: options.service,
          nodes: options.node,
          links: options.link,
        };
        if (options.time && Number.isNaN(Date.parse(options.time))) throw new JarvisProblem(`--time ${options.time} is not a date`, 'invalid');
        const recorded = await context.api().call<IncidentView>('POST', '/ai/incidents', body);
        printData(options.output, recorded, renderIncident);
      },
    );

  incidents
    .command('edit')
    .description('change an incident: the options given replace those fields, the others stay; it is re-embedded')
    .argument('<id>')
    .requiredOption('-e, --env <environment>', 'the environment it happened in')
    .option('--title <title>', 'what happened, in a line')
    .option('--time <iso-time>', 'when it happened')
    .option('--symptoms <text>', 'what was seen: error messages, alerts')
    .option('--cause <text>', 'the root cause')
    .option('--resolution <text>', 'what fixed it')
    .option('--runbook <name>', 'the runbook that fixed it')
    .option('-i, --input <key=value>', 'an input of that runbook (repeatable; replaces its inputs)', collect, [])
    .addOption(outputOption())
    .action(
      async (id: string, options: { env: string; title?: string; time?: string; symptoms?: string; cause?: string; resolution?: string; runbook?: string; input: string[]; output: OutputFormat }) => {
        if (options.time && Number.isNaN(Date.parse(options.time))) throw new JarvisProblem(`--time ${options.time} is not a date`, 'invalid');
        const api = context.api();
        const path = `/ai/incidents/${encodeURIComponent(id)}`;
        const {
          id: _id,
          resolutionDocumentId: _resolution,
          createdBy: _createdBy,
          ...current
        } = await api.call<IncidentView & { createdBy?: string | null }>('GET', `${path}?${new URLSearchParams({ environment: options.env })}`);
        const runbook = options.runbook ?? current.resolutionRunbook?.name;
        const body = {
          ...current,
          environment: options.env,
          ...(options.title ? { title: options.title } : {}),
          ...(options.time ? { occurredAt: new Date(options.time).toISOString() } : {}),
          ...(options.symptoms !== undefined ? { symptoms: options.symptoms } : {}),
          ...(options.cause !== undefined ? { cause: options.cause } : {}),
          ...(options.resolution !== undefined ? { resolution: options.resolution } : {}),
          ...(runbook ? { resolutionRunbook: { name: runbook, inputs: options.input.length > 0 ? keyValues(options.input) : (current.resolutionRunbook?.inputs ?? {}) } } : {}),
        };
        printData(options.output, await api.call<IncidentView>('PUT', path, body), renderIncident);
      },
    );

  incidents
    .command('import')
    .description('import incidents: Markdown postmortems (.md), a JSON export (.json) or a CSV export with a header row (.csv)')
    .argument('<file>')
    .requiredOption('-e, --env <environment>', 'the environment they happened in')
    .option('--format <format>', 'markdown, json or csv (default: from the file name)')
    .addOption(outputOption())
    .action(async (file: string, options: { env: string; format?: string; output: OutputFormat }) => {
      const format = (options.format ?? formatOfFile(file)) as ImportFormat | undefined;
      if (!format || !['markdown', 'json', 'csv'].includes(format)) throw new JarvisProblem(`say --format markdown, json or csv for ${file}`, 'invalid');
      const content = await readFile(file, 'utf8');
      const outcome = await context.api().call<ImportOutcome>('POST', '/ai/incidents/import', { environment: options.env, format, content });
      printData(options.output, outcome, (result) =>
        [
          `Imported ${result.imported.length} incident(s)${result.errors.length ? `, refused ${result.errors.length}` : ''}`,
          ...result.imported.map((item) => `  ${item.documentId}  ${item.title}`),
          ...result.errors.map((error) => `  record ${error.record}${error.title ? ` (${error.title})` : ''}: ${error.message}`),
        ].join('\n'),
      );
      if (outcome.errors.length > 0) process.exitCode = 2;
    });

  incidents
    .command('list')
    .description('recorded and imported incidents, newest first')
    .requiredOption('-e, --env <environment>', 'the environment')
    .option('--limit <n>', 'at most this many', (value) => Number.parseInt(value, 10), 50)
    .addOption(outputOption())
    .action(async (options: { env: string; limit: number; output: OutputFormat }) => {
      const { incidents: found } = await context.api().call<{ incidents: IncidentView[] }>('GET', `/ai/incidents?${new URLSearchParams({ environment: options.env, limit: String(options.limit) })}`);
      printData(options.output, found, [
        { header: 'when', value: (incident) => incident.occurredAt?.slice(0, 16) ?? '' },
        { header: 'title', value: (incident) => (incident.title.length > 60 ? `${incident.title.slice(0, 59)}…` : incident.title) },
        { header: 'resolution', value: (incident) => incident.resolutionRunbook?.name ?? (incident.resolution.split('\n')[0] ?? '').slice(0, 40) },
        { header: 'id', value: (incident) => incident.id },
      ]);
    });

  incidents
    .command('show')
    .description('one incident as recorded')
    .argument('<id>')
    .requiredOption('-e, --env <environment>', 'the environment')
    .addOption(outputOption())
    .action(async (id: string, options: { env: string; output: OutputFormat }) => {
      const incident = await context.api().call<IncidentView>('GET', `/ai/incidents/${encodeURIComponent(id)}?${new URLSearchParams({ environment: options.env })}`);
      printData(options.output, incident, renderIncident);
    });
}
