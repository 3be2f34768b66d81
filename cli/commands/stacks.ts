// `jarvis stacks deploy|list|rm`: Swarm stacks of a Docker endpoint, through
// the API only; deploys and removals are runs (prod asks an approver first).
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import type { ApiClient } from '../api-client.js';
import type { CliContext } from '../context.js';
import { endpointOptions, outputOption } from '../options.js';
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

  endpointOptions(stacks.command('deploy').description('deploy a stack manifest (a deploy-stack run; prod asks an approver first)').argument('<file>', 'the stack manifest (YAML)'))
    .option('--smoke-url <url>', 'an URL that must answer 200 once deployed')
    .option('-w, --watch', 'follow the run to its end')
    .action(async (file: string, options: { env: string; endpoint: string; smokeUrl?: string; watch?: boolean }) => {
      await startRun(context.api(), 'deploy-stack', options, { endpoint: options.endpoint, stack: readFileSync(file, 'utf8'), ...(options.smokeUrl ? { smokeUrl: options.smokeUrl } : {}) }, `Deploy of ${file} is`);
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
