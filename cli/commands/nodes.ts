// `jarvis nodes list|show|add|enroll|run|update`: the node inventory and fleet runs, through the API.
import type { Command } from 'commander';
import os from 'node:os';
import type { NodeView } from '../../infra/node-store.js';
import { JarvisProblem } from '../../manifest/errors.js';
import { parseSelectorText } from '../../manifest/fleet.js';
import type { CliContext } from '../context.js';
import { collect, outputOption } from '../options.js';
import { printData, renderTable, type OutputFormat } from '../output.js';
import { reportStarted } from '../watch.js';

const gib = (bytes: number | undefined) => (bytes === undefined ? '' : `${(bytes / 2 ** 30).toFixed(1)} GiB`);

function parseLabels(pairs: string[]): Record<string, string> {
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new JarvisProblem(`"${pair}" is not a label: use key=value`, 'invalid');
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

function renderNode(node: NodeView): string {
  const profile = node.profile;
  const lines = [
    `Node       ${node.name} (${node.id})`,
    `Env        ${node.environment}    Status ${node.status}    Source ${node.source}`,
    `Address    ${node.address || '-'}    Last seen ${node.lastSeenAt ?? 'never'}`,
    `Labels     ${Object.entries(node.labels).map(([key, value]) => `${key}=${value}`).join(', ') || '-'}`,
    `Queue      ${node.taskQueue ?? (node.enrollmentPending ? `(enrollment pending until ${node.enrollmentExpiresAt})` : '-')}`,
    `SSH        ${node.ssh ? `connection ${node.ssh.connection}${node.ssh.user ? `, login ${node.ssh.user}` : ''}` : '-'}`,
  ];
  if (profile) {
    lines.push(
      `Host       ${profile.hostname}: ${profile.os.name} ${profile.os.version} (${profile.os.kernel}, ${profile.os.arch})`,
      `CPU        ${profile.cpu.cores} × ${profile.cpu.model}    Memory ${gib(profile.memoryBytes)}`,
      `Docker     ${profile.docker ? `${profile.docker.version}${profile.docker.swarm ? `, swarm ${profile.docker.swarm.state}${profile.docker.swarm.role ? ` ${profile.docker.swarm.role}` : ''}` : ''}` : 'none'}`,
      '',
      renderTable(profile.disks, [
        { header: 'mount', value: (disk) => disk.mount },
        { header: 'device', value: (disk) => disk.device },
        { header: 'size', value: (disk) => gib(disk.sizeBytes) },
        { header: 'used', value: (disk) => gib(disk.usedBytes) },
      ]),
      '',
      renderTable(profile.interfaces, [
        { header: 'interface', value: (entry) => entry.name },
        { header: 'addresses', value: (entry) => entry.addresses },
      ]),
    );
  }
  return lines.join('\n');
}

export function registerNodeCommands(program: Command, context: CliContext): void {
  const nodes = program.command('nodes').description('the node inventory: machines with their profile, labels and status (through the API)');

  nodes
    .command('list')
    .description('nodes of an environment (or of every environment you may read)')
    .option('-e, --environment <environment>', 'only this environment')
    .addOption(outputOption())
    .action(async (options: { environment?: string; output: OutputFormat }) => {
      const query = options.environment ? `?${new URLSearchParams({ environment: options.environment })}` : '';
      const listed = await context.api().call<NodeView[]>('GET', `/nodes${query}`);
      printData(options.output, listed, [
        { header: 'name', value: (node) => node.name },
        { header: 'env', value: (node) => node.environment },
        { header: 'status', value: (node) => node.status },
        { header: 'last seen', value: (node) => node.lastSeenAt },
        { header: 'address', value: (node) => node.address },
        { header: 'cpus', value: (node) => node.profile?.cpu.cores },
        { header: 'memory', value: (node) => gib(node.profile?.memoryBytes) },
        { header: 'os', value: (node) => (node.profile ? `${node.profile.os.name} ${node.profile.os.version}` : '') },
        { header: 'docker', value: (node) => node.profile?.docker?.version },
        { header: 'labels', value: (node) => Object.entries(node.labels).map(([key, value]) => `${key}=${value}`) },
      ]);
    });

  nodes
    .command('show')
    .description("one node's profile, health and labels")
    .argument('<name>', 'the node name (or id)')
    .requiredOption('-e, --environment <environment>', 'the node’s environment')
    .addOption(outputOption())
    .action(async (name: string, options: { environment: string; output: OutputFormat }) => {
      const listed = await context.api().call<NodeView[]>('GET', `/nodes?${new URLSearchParams({ environment: options.environment })}`);
      const node = listed.find((entry) => entry.name === name || entry.id === name);
      if (!node) throw new JarvisProblem(`no node ${name} in ${options.environment}`, 'not-found');
      printData(options.output, node, renderNode);
    });

  nodes
    .command('run')
    .description('run a command on every node a selector picks, by their agents, in batches with a failure budget (the fleet-shell runbook; admin)')
    .requiredOption('-s, --selector <selector>', '"all", labels (site=a,role=edge), name=web-1|web-2 or status=online')
    .option('-e, --env <environment>', 'the environment of the nodes', 'dev')
    .option('--batch <amount>', 'targets per batch: a count or a percentage', '10%')
    .option('--max-failures <amount>', 'failures tolerated: a count or a percentage; one more stops the rollout', '0')
    .option('-w, --watch', 'follow the run until it ends; exit non-zero unless it succeeds')
    .argument('<command...>', 'after --: the program and its arguments')
    .action(async (command: string[], options: { selector: string; env: string; batch: string; maxFailures: string; watch?: boolean }) => {
      const selector = parseSelectorText(options.selector);
      if (typeof selector === 'string') throw new JarvisProblem(`--selector: ${selector}`, 'invalid');
      const [program, ...args] = command;
      const runs = await context.runOperations();
      const inputs = { selector: options.selector, command: program, args, batch: options.batch, maxFailures: options.maxFailures };
      const started = await runs.start('fleet-shell', inputs, options.env, { user: context.env.actingUser ?? os.userInfo().username, roles: [] });
      await reportStarted(runs, started, options.watch ?? false, 'Started');
    });

  nodes
    .command('add')
    .description('add a machine without an agent, reached over SSH through an ssh connection of its environment (admin); fleet steps run on it over SSH')
    .argument('<name>', 'the node name: lowercase letters, digits and "-"')
    .requiredOption('-e, --environment <environment>', 'the environment the node joins')
    .requiredOption('--address <address>', 'its IP address or host name')
    .requiredOption('-c, --connection <connection>', 'the ssh connection holding the key to log in with')
    .option('-u, --user <login>', "the login (default: the connection's)")
    .option('-l, --label <key=value>', 'a label (repeatable)', collect, [])
    .addOption(outputOption())
    .action(async (name: string, options: { environment: string; address: string; connection: string; user?: string; label: string[]; output: OutputFormat }) => {
      const node = await context.api().call<NodeView>('POST', '/nodes', {
        environment: options.environment,
        name,
        address: options.address,
        labels: parseLabels(options.label),
        ssh: { connection: options.connection, ...(options.user ? { user: options.user } : {}) },
      });
      printData(options.output, node, () => `Node ${node.name} added to ${node.environment}: reached over SSH at ${node.address} through connection ${options.connection}.`);
    });

  nodes
    .command('update')
    .description('upgrade the packages of every node a selector picks, in batches with a failure budget, then reboot those that ask for it (the patch-fleet runbook; admin)')
    .requiredOption('-s, --selector <selector>', '"all", labels (site=a,role=edge), name=web-1|web-2 or status=online')
    .option('-e, --env <environment>', 'the environment of the nodes', 'dev')
    .option('--security-only', 'only updates from the security archive (the default)')
    .option('--all-updates', 'every available update, not only security ones')
    .option('--batch <amount>', 'nodes per batch: a count or a percentage', '10%')
    .option('--max-failures <amount>', 'failures tolerated: a count or a percentage; one more stops the rollout', '5%')
    .option('--rollback-on-failure', 'put back the previous package versions on each node whose upgrade failed')
    .option('--reboot <when>', 'never, if-required or always', 'if-required')
    .option('-w, --watch', 'follow the run until it ends; exit non-zero unless it succeeds')
    .action(async (options: { selector: string; env: string; securityOnly?: boolean; allUpdates?: boolean; batch: string; maxFailures: string; rollbackOnFailure?: boolean; reboot: string; watch?: boolean }) => {
      const selector = parseSelectorText(options.selector);
      if (typeof selector === 'string') throw new JarvisProblem(`--selector: ${selector}`, 'invalid');
      if (options.securityOnly && options.allUpdates) throw new JarvisProblem('--security-only and --all-updates contradict each other: give one', 'invalid');
      if (!['never', 'if-required', 'always'].includes(options.reboot)) throw new JarvisProblem(`--reboot: "${options.reboot}" is not never, if-required or always`, 'invalid');
      const inputs = {
        selector: options.selector,
        securityOnly: !options.allUpdates,
        batch: options.batch,
        maxFailures: options.maxFailures,
        rollbackOnFailure: options.rollbackOnFailure ?? false,
        reboot: options.reboot,
      };
      const runs = await context.runOperations();
      const started = await runs.start('patch-fleet', inputs, options.env, { user: context.env.actingUser ?? os.userInfo().username, roles: [] });
      await reportStarted(runs, started, options.watch ?? false, 'Started');
    });

  nodes
    .command('enroll')
    .description('make a pending node and a one-time token for its agent (admin); prints the agent command')
    .argument('<name>', 'the node name: lowercase letters, digits and "-"')
    .requiredOption('-e, --environment <environment>', 'the environment the node joins')
    .option('-l, --label <key=value>', 'a label (repeatable)', collect, [])
    .option('--address <address>', 'how the node is reached, when known')
    .addOption(outputOption())
    .action(async (name: string, options: { environment: string; label: string[]; address?: string; output: OutputFormat }) => {
      const api = context.api();
      const answer = await api.call<{ node: NodeView; token: string; expiresAt: string; taskQueue: string }>('POST', '/nodes/enroll', {
        environment: options.environment,
        name,
        labels: parseLabels(options.label),
        ...(options.address ? { address: options.address } : {}),
      });
      const command = `npx jarvis agent --api ${api.baseUrl} --token ${answer.token}`;
      printData(options.output, { ...answer, command }, () =>
        [
          `Node ${answer.node.name} enrolled in ${answer.node.environment} (pending until its agent starts).`,
          `Its agent polls task queue ${answer.taskQueue}. The token works once, until ${answer.expiresAt}; it is not shown again.`,
          'On the node, run:',
          `  ${command}`,
        ].join('\n'),
      );
    });
}
