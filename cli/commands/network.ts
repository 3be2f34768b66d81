// `jarvis network topology`: nodes, Swarm clusters and their links, through the API.
import { Option, type Command } from 'commander';
import type { Topology } from '../../infra/topology.js';
import type { CliContext } from '../context.js';
import { OUTPUT_FORMATS, printData, renderTable, type OutputFormat } from '../output.js';

export function registerNetworkCommands(program: Command, context: CliContext): void {
  program
    .command('network')
    .description('the network of the grid')
    .command('topology')
    .description('nodes, Swarm clusters and shared-subnet links of an environment')
    .requiredOption('-e, --environment <environment>', 'the environment')
    .addOption(new Option('-f, --format <format>', 'json or Graphviz dot').choices(['json', 'dot']).default('json'))
    .addOption(new Option('-o, --output <format>', 'with --format json: json (default), yaml or table (the links)').choices(OUTPUT_FORMATS))
    .action(async (options: { environment: string; format: 'json' | 'dot'; output?: OutputFormat }) => {
      const query = new URLSearchParams({ environment: options.environment, format: options.format });
      if (options.format === 'dot') return void process.stdout.write(await context.api().text('GET', `/network/topology?${query}`));
      const topology = await context.api().call<Topology>('GET', `/network/topology?${query}`);
      printData(options.output ?? 'json', topology, (data) =>
        renderTable(data.links, [
          { header: 'from', value: (link) => link.from },
          { header: 'to', value: (link) => link.to },
          { header: 'kind', value: (link) => link.kind },
          { header: 'subnet', value: (link) => link.subnet },
        ]),
      );
    });
}
