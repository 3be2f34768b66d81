// `jarvis stacks validate|deploy|list|rm`: Swarm stacks of a Docker endpoint,
// through the API only; a Compose file is validated by the API (the Docker
// Engine specs a deploy would send), deploys and removals are runs (prod asks
// an approver first). The CLI sends the files the Compose file names along.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { collectReferencedFiles } from '../../infra/compose/stack-input.js';
import { parseEnvFile } from '../../infra/compose/interpolate.js';
import { JarvisProblem, type ManifestError } from '../../manifest/errors.js';
import type { ApiClient } from '../api-client.js';
import type { CliContext } from '../context.js';
import { collect, endpointOptions, outputOption } from '../options.js';
import { printData, renderTable, type OutputFormat } from '../output.js';
import { ApiRunOperations } from '../run-operations.js';
import { reportStarted } from '../watch.js';

interface ServiceRow {
  stack: string;
  name: string;
  image: string;
  replicas: number;
  running: number;
  updateState?: string;
}

export function registerStackCommands(program: Command, context: CliContext): void {
  const stacks = program.command('stacks').description('Swarm stacks of a Docker endpoint (through the API)');
  /** Starts a stack runbook and reports it like any run. */
  const startRun = async (api: ApiClient, runbook: string, options: { env: string; watch?: boolean }, inputs: Record<string, unknown>, verb: string) => {
    const started = await api.call<{ id: string }>('POST', `/runbooks/${runbook}/execute`, { environment: options.env, inputs });
    await reportStarted(new ApiRunOperations(api), started, Boolean(options.watch), verb);
  };

  composeOptions(stacks.command('validate').description('validate a Compose file as docker stack deploy reads it and print the ServiceSpec of every service (exit 2 when invalid)'))
    .option('-o, --output <format>', 'table, json or yaml', 'table')
    .action(async (file: string, options: ComposeOptions & { output: OutputFormat }) => {
      let result: StackValidation;
      try {
        result = await context.api().call<StackValidation>('POST', '/stacks/validate', await readStackInput(file, options));
      } catch (error) {
        // Invalid: the mistakes on stderr (exit 2), or as data for -o json|yaml.
        if (!(error instanceof JarvisProblem) || error.kind !== 'invalid' || options.output === 'table') throw error;
        printData(options.output, { valid: false, errors: error.errors, warnings: [] }, () => '');
        process.exitCode = 2;
        return;
      }
      if (options.output !== 'table') printData(options.output, result, () => '');
      else printValidation(result);
    });

  endpointOptions(composeOptions(stacks.command('deploy').description('deploy a Compose file as a stack (a deploy-stack run, validated before any approval; prod asks an approver first)')))
    .option('--smoke-url <url>', 'an URL that must answer 200 once deployed')
    .option('-w, --watch', 'follow the run to its end')
    .action(async (file: string, options: ComposeOptions & { env: string; endpoint: string; smokeUrl?: string; watch?: boolean }) => {
      // Relative bind sources resolve against the Compose file's directory, as docker stack deploy resolves them.
      const input = await readStackInput(file, options);
      await startRun(
        context.api(),
        'deploy-stack',
        options,
        { endpoint: options.endpoint, ...input, ...(options.smokeUrl ? { smokeUrl: options.smokeUrl } : {}) },
        `Deploy of ${file} as ${options.name} is`,
      );
    });

  endpointOptions(stacks.command('list').description('stacks with their services and replicas'))
    .addOption(outputOption())
    .action(async (options: { env: string; endpoint: string; output: OutputFormat }) => {
      const query = new URLSearchParams({ environment: options.env, endpoint: options.endpoint });
      const listed = await context.api().call<Array<{ name: string; services: Array<Omit<ServiceRow, 'stack'>> }>>('GET', `/stacks?${query}`);
      const rows: ServiceRow[] = listed.flatMap((stack) => stack.services.map((service) => ({ ...service, stack: stack.name })));
      printData(options.output, rows, () =>
        renderTable(rows, [
          { header: 'stack', value: (row: ServiceRow) => row.stack },
          { header: 'service', value: (row: ServiceRow) => row.name },
          { header: 'image', value: (row: ServiceRow) => row.image },
          { header: 'replicas', value: (row: ServiceRow) => `${row.running}/${row.replicas}` },
          { header: 'update', value: (row: ServiceRow) => row.updateState },
        ]),
      );
    });

  endpointOptions(stacks.command('rm').description('remove a stack (a remove-stack run; prod asks an approver first)').argument('<stack>'))
    .option('-w, --watch', 'follow the run to its end')
    .action(async (stack: string, options: { env: string; endpoint: string; watch?: boolean }) => {
      await startRun(context.api(), 'remove-stack', options, { endpoint: options.endpoint, stack }, `Removal of ${stack} is`);
    });
}

interface ComposeOptions {
  name: string;
  var: string[];
  envFile?: string;
}

interface StackValidation {
  valid: boolean;
  errors: ManifestError[];
  warnings: ManifestError[];
  plan?: {
    services: Array<{ name: string; spec: Record<string, unknown> }>;
    networks: Array<{ name: string; external: boolean }>;
    secrets: Array<{ name: string; external: boolean }>;
    configs: Array<{ name: string; external: boolean }>;
  };
}

const composeOptions = (command: Command) =>
  command
    .argument('<file>', 'the Compose file (docker-compose.yml / stack file)')
    .requiredOption('-n, --name <stack>', 'the stack name (services are named <stack>_<service>)')
    .option('--var <KEY=VALUE>', 'a variable for ${KEY} interpolation (repeatable)', collect, [])
    .option('--env-file <file>', 'an env file (KEY=value lines) for interpolation');

/** The Compose file, its variables and the files it names (read next to it), as the API takes them. */
async function readStackInput(file: string, options: ComposeOptions) {
  const variables: Record<string, string> = {};
  for (const entry of options.var) {
    const at = entry.indexOf('=');
    if (at <= 0) throw new JarvisProblem(`--var ${entry}: write KEY=VALUE`, 'invalid');
    variables[entry.slice(0, at)] = entry.slice(at + 1);
  }
  const read = (name: string, what: string) => {
    try {
      return readFileSync(name, 'utf8');
    } catch (error) {
      throw new JarvisProblem(`cannot read ${what} ${name}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 'invalid');
    }
  };
  const stack = read(file, 'the Compose file');
  const envFile = options.envFile ? read(options.envFile, 'the env file') : undefined;
  const directory = path.dirname(path.resolve(file));
  const lookupVariables = { ...Object.fromEntries(envFile !== undefined ? parseEnvFile(envFile, () => undefined, options.envFile ?? 'the env file') : []), ...variables };
  const files = await collectReferencedFiles(stack, lookupVariables, (name) => read(path.resolve(directory, name), `${name}, named in the Compose file,`));
  return { stack, name: options.name, variables, files, workingDir: directory, ...(envFile !== undefined ? { envFile } : {}) };
}

function printValidation(result: StackValidation): void {
  for (const warning of result.warnings) process.stderr.write(`warning: ${warning.path}: ${warning.message}\n`);
  if (!result.valid || !result.plan) return;
  const { plan } = result;
  const external = (objects: Array<{ name: string; external: boolean }>) => objects.map((object) => `${object.name}${object.external ? ' (external)' : ''}`).join(', ') || '-';
  process.stdout.write(`networks: ${external(plan.networks)}\nsecrets: ${external(plan.secrets)}\nconfigs: ${external(plan.configs)}\n`);
  for (const service of plan.services) process.stdout.write(`\nservice ${service.name}:\n${JSON.stringify(service.spec, null, 2)}\n`);
}
