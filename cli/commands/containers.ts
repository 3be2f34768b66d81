// `jarvis containers list|restart|stop|start|logs`: containers of a Docker
// endpoint, through the API only (RBAC, audit and approvals apply).
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { endpointOptions, outputOption } from '../options.js';
import { printData, renderTable, type OutputFormat } from '../output.js';
import { ApiRunOperations } from '../run-operations.js';
import { reportStarted } from '../watch.js';

interface ContainerRow {
  group: string;
  name: string;
  image: string;
  state: string;
  status: string;
  health?: string;
}

export function registerContainerCommands(program: Command, context: CliContext): void {
  const containers = program.command('containers').description('containers of a Docker endpoint (a docker connection)');
  endpointOptions(containers.command('list').description('containers grouped by Swarm stack or Compose project'))
    .addOption(outputOption())
    .action(async (options: { env: string; endpoint: string; output: OutputFormat }) => {
      const query = new URLSearchParams({ environment: options.env, endpoint: options.endpoint });
      const groups = await context.api().call<Array<{ group: string; containers: ContainerRow[] }>>('GET', `/containers?${query}`);
      const rows = groups.flatMap((group) => group.containers.map((container) => ({ ...container, group: group.group })));
      printData(options.output, rows, () =>
        renderTable(rows, [
          { header: 'group', value: (row: ContainerRow) => row.group },
          { header: 'name', value: (row: ContainerRow) => row.name },
          { header: 'image', value: (row: ContainerRow) => row.image },
          { header: 'state', value: (row: ContainerRow) => row.state },
          { header: 'health', value: (row: ContainerRow) => row.health },
          { header: 'status', value: (row: ContainerRow) => row.status },
        ]),
      );
    });

  for (const verb of ['restart', 'stop', 'start'] as const) {
    endpointOptions(containers.command(verb).description(`${verb} a container (a container-${verb} run; prod asks an approver first)`).argument('<container>'))
      .option('-w, --watch', 'follow the run to its end')
      .action(async (container: string, options: { env: string; endpoint: string; watch?: boolean }) => {
        const api = context.api();
        const started = await api.call<{ id: string }>('POST', `/containers/${encodeURIComponent(container)}/${verb}`, { environment: options.env, endpoint: options.endpoint });
        await reportStarted(new ApiRunOperations(api), started, Boolean(options.watch), `${verb[0]!.toUpperCase()}${verb.slice(1)} of ${container} is`);
      });
  }

  endpointOptions(containers.command('logs').description("the last lines of a container's output").argument('<container>'))
    .option('-n, --tail <lines>', 'how many lines', '200')
    .action(async (container: string, options: { env: string; endpoint: string; tail: string }) => {
      const query = new URLSearchParams({ environment: options.env, endpoint: options.endpoint, tail: options.tail });
      const { lines } = await context.api().call<{ lines: Array<{ stream: string; text: string }> }>('GET', `/containers/${encodeURIComponent(container)}/logs?${query}`);
      for (const line of lines) (line.stream === 'stderr' ? process.stderr : process.stdout).write(`${line.text}\n`);
    });
}
