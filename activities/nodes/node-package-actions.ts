// Patching a node: upgrade its packages (security updates only, or all) with
// its own package manager (apt on the Debian family, dnf or yum on the RHEL
// family), report what changed and whether it wants a reboot; put back what a
// run's upgrade changed; reboot it and wait until it is back. By the node's
// agent, or over SSH for a node without one (node-commands.ts).
import { ApplicationFailure, Context } from '@temporalio/activity';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { parseDuration } from '../../manifest/duration.js';
import { defineAction, durationArgument, type ActionContext } from '../action.js';
import { tailText, type ProcessResult } from '../shell/run-process.js';
import { withNodeCommands, type NodeCommand, type NodeCommands } from './node-commands.js';
import { aptHistoryChanges, packageChanges, packageFamily, parseAptSimulation, parseVersions, PACKAGE_NAME, type PackageChange, type PackageFamily } from './package-managers.js';

const APT_ENV = { DEBIAN_FRONTEND: 'noninteractive', NEEDRESTART_MODE: 'l' };
// Wait for another apt (unattended-upgrades, or an earlier attempt still finishing) instead of failing on its lock.
const APT_LOCK_WAIT = ['-o', 'DPkg::Lock::Timeout=300'];
// Keep the node's own configuration files when a package ships new ones; never ask.
const APT_OPTIONS = ['-y', '-q', '-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold', ...APT_LOCK_WAIT];
const DPKG_LISTING = ['-W', '-f', '${binary:Package}\t${Version}\n'];
const RPM_LISTING = ['-qa', '--qf', '%{NAME}.%{ARCH}\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\n'];

const changeSchema = z.object({ package: z.string(), from: z.string().nullable(), to: z.string().nullable() });

/** Runs a command that must succeed; its failure names the command and its last error lines. */
async function mustRun(node: NodeCommands, command: NodeCommand, what: string): Promise<ProcessResult> {
  const result = await node.run(command).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw ApplicationFailure.nonRetryable(`${what}: ${command.command} is not on this node`, 'NotSupported');
    throw error;
  });
  if (result.exitCode !== 0) {
    const said = tailText(result.lines, 'stderr', 600) || tailText(result.lines, 'stdout', 600);
    throw ApplicationFailure.retryable(`${what} failed (${command.command} exited with code ${result.exitCode})${said ? `: ${said}` : ''}`, 'PackageManagerFailed');
  }
  return result;
}

async function familyOf(node: NodeCommands): Promise<PackageFamily> {
  const release = await mustRun(node, { command: 'cat', args: ['/etc/os-release'] }, 'reading /etc/os-release');
  const family = packageFamily(tailText(release.lines, 'stdout', 4_000));
  if (!family) throw ApplicationFailure.nonRetryable(`node ${node.node} is neither of the Debian nor of the RHEL family: Jarvis cannot upgrade its packages`, 'NotSupported');
  return family;
}

async function installed(node: NodeCommands, family: PackageFamily): Promise<Map<string, string>> {
  const listing =
    family === 'debian'
      ? await mustRun(node, { command: 'dpkg-query', args: DPKG_LISTING }, 'listing installed packages')
      : await mustRun(node, { command: 'rpm', args: RPM_LISTING }, 'listing installed packages');
  return parseVersions(tailText(listing.lines, 'stdout', 4_000_000));
}

/** Whether the node wants a reboot, and for which packages; null when it cannot tell. */
async function rebootWanted(node: NodeCommands, family: PackageFamily): Promise<{ required: boolean | null; packages: string[] }> {
  if (family === 'debian') {
    const flag = await node.run({ command: 'cat', args: ['/var/run/reboot-required.pkgs'] });
    const exists = await node.run({ command: 'test', args: ['-e', '/var/run/reboot-required'] });
    const packages =
      flag.exitCode === 0
        ? [
            ...new Set(
              tailText(flag.lines, 'stdout')
                .split('\n')
                .map((line) => line.trim())
                .filter(Boolean),
            ),
          ]
        : [];
    return { required: exists.exitCode === 0, packages };
  }
  // dnf-utils' needs-restarting -r: 1 when a reboot is needed, 0 when not.
  const answer = await node.run({ command: 'needs-restarting', args: ['-r'], asRoot: true }).catch(() => undefined);
  return { required: answer?.exitCode === 1 ? true : answer?.exitCode === 0 ? false : null, packages: [] };
}

/** The tag an upgrade leaves in the package manager's history, so its rollback finds it. */
function historyTag(runId: string): string {
  return `jarvis-run=${runId}`;
}

/** The changes an upgrade tagged with this run made, over all its attempts, from apt's history. */
async function taggedAptChanges(node: NodeCommands, tag: string): Promise<PackageChange[]> {
  const history = await mustRun(node, { command: 'cat', args: ['/var/log/apt/history.log'] }, 'reading apt’s history');
  return aptHistoryChanges(tailText(history.lines, 'stdout', 16_000_000), `Jarvis::Run=${tag}`);
}

async function upgradeDebian(node: NodeCommands, context: ActionContext, securityOnly: boolean, dryRun: boolean): Promise<{ planned: number; skipped: number }> {
  // A package left half-installed (by an earlier attempt, or by hand) is finished first, as apt itself asks: its failure is this step's.
  const audit = await mustRun(node, { command: 'dpkg', args: ['--audit'], asRoot: true }, 'checking the package database');
  if (tailText(audit.lines, 'stdout').trim() !== '' && !dryRun) {
    context.log('system', 'packages are not fully installed: running dpkg --configure -a first');
    await mustRun(node, { command: 'dpkg', args: ['--configure', '-a'], env: APT_ENV, asRoot: true }, 'finishing the half-installed packages (dpkg --configure -a)');
  }
  await mustRun(node, { command: 'apt-get', args: ['-q', ...APT_LOCK_WAIT, 'update'], env: APT_ENV, asRoot: true }, 'apt-get update');
  const simulation = await mustRun(node, { command: 'apt-get', args: ['-s', '-q', ...APT_LOCK_WAIT, 'upgrade', '--with-new-pkgs'], env: APT_ENV, asRoot: true }, 'planning the upgrade');
  const planned = parseAptSimulation(tailText(simulation.lines, 'stdout', 4_000_000));
  const chosen = planned.filter((upgrade) => !securityOnly || upgrade.security);
  context.log(
    'system',
    `${chosen.length} of ${planned.length} upgradable packages ${securityOnly ? 'come from a security archive' : 'chosen'}${chosen.length ? `: ${chosen.map((upgrade) => `${upgrade.package} ${upgrade.to}`).join(', ')}` : ''}`,
  );
  if (dryRun || chosen.length === 0) return { planned: chosen.length, skipped: planned.length - chosen.length };
  // The tag is an apt option: apt keeps the command line in /var/log/apt/history.log, where the rollback finds this upgrade.
  const tagged = ['-o', `Jarvis::Run=${historyTag(context.step.runId)}`, ...APT_OPTIONS];
  const names = chosen.map((upgrade) => upgrade.package).filter((name) => PACKAGE_NAME.test(name));
  const args = securityOnly ? [...tagged, 'install', '--only-upgrade', ...names] : [...tagged, 'upgrade', '--with-new-pkgs'];
  await mustRun(node, { command: 'apt-get', args, env: APT_ENV, asRoot: true }, 'apt-get');
  return { planned: chosen.length, skipped: planned.length - chosen.length };
}

async function upgradeRhel(node: NodeCommands, context: ActionContext, securityOnly: boolean, dryRun: boolean): Promise<{ planned: number; skipped: number }> {
  const manager = (await node.run({ command: 'test', args: ['-x', '/usr/bin/dnf'] })).exitCode === 0 ? 'dnf' : 'yum';
  const security = securityOnly ? ['--security'] : [];
  if (dryRun) {
    // check-update: exit 100 when updates are available, 0 when none.
    const check = await node.run({ command: manager, args: ['-q', 'check-update', ...security], asRoot: true });
    if (check.exitCode !== 0 && check.exitCode !== 100)
      throw ApplicationFailure.retryable(`${manager} check-update exited with code ${check.exitCode}: ${tailText(check.lines, 'stderr', 600)}`, 'PackageManagerFailed');
    const count = tailText(check.lines, 'stdout', 4_000_000)
      .split('\n')
      .filter((line) => /^\S+\.\S+\s+\S+\s+\S+$/.test(line.trim())).length;
    return { planned: count, skipped: 0 };
  }
  await mustRun(node, { command: manager, args: ['-y', `--comment=${historyTag(context.step.runId)}`, 'upgrade', ...security], asRoot: true }, `${manager} upgrade`);
  return { planned: -1, skipped: 0 };
}

export const nodePackagesUpgrade = defineAction({
  id: 'node.packages.upgrade',
  title: 'Upgrade a node’s packages',
  description:
    'On the node (by its agent, or over SSH): security updates only (from the distribution’s security archive: apt on Debian and Ubuntu, `dnf upgrade --security` on the RHEL family) or every update; reports each package changed and whether the node wants a reboot. `dryRun` only reports what would change.',
  risk: 'high',
  runsOn: 'node',
  overSsh: true,
  input: z
    .object({ securityOnly: z.boolean().default(true).describe('Only updates from a security archive'), dryRun: z.boolean().default(false).describe('Report what would be upgraded; change nothing') })
    .strict(),
  output: z.object({
    family: z.enum(['debian', 'rhel']),
    securityOnly: z.boolean(),
    dryRun: z.boolean(),
    changes: z.array(changeSchema),
    changed: z.number(),
    /** Upgrades a security-only run left alone (Debian family). */
    skipped: z.number(),
    rebootRequired: z.boolean().nullable(),
    rebootPackages: z.array(z.string()),
  }),
  defaults: { timeout: '30m', heartbeatTimeout: '1m', retry: { maxAttempts: 2, initialInterval: '30s', backoff: 2, maxInterval: '5m' } },
  create: (deps) => async (args, context) =>
    withNodeCommands(deps, context, async (node) => {
      const family = await familyOf(node);
      const before = family === 'rhel' ? await installed(node, family) : undefined;
      const upgrade = family === 'debian' ? upgradeDebian : upgradeRhel;
      const { skipped } = await upgrade(node, context, args.securityOnly, args.dryRun);
      // apt's history holds every attempt of this run's upgrade (a retry after a lost worker must not report "nothing changed").
      const changes = args.dryRun ? [] : before ? packageChanges(before, await installed(node, family)) : await taggedAptChanges(node, historyTag(context.step.runId));
      const reboot = await rebootWanted(node, family);
      context.log('system', `${node.node}: ${changes.length} package(s) changed${reboot.required ? ', reboot required' : ''}`);
      return { family, securityOnly: args.securityOnly, dryRun: args.dryRun, changes, changed: changes.length, skipped, rebootRequired: reboot.required, rebootPackages: reboot.packages };
    }),
});

async function rollbackDebian(node: NodeCommands, context: ActionContext, run: string): Promise<PackageChange[]> {
  const changed = await taggedAptChanges(node, historyTag(run));
  const now = await installed(node, 'debian');
  // Put back what the upgrade replaced, where the node still has what it put in; remove what it newly installed.
  const downgrades = changed.filter((change) => change.from && change.to && now.get(change.package) === change.to).map((change) => `${change.package}=${change.from}`);
  const removals = changed.filter((change) => !change.from && change.to && now.get(change.package) === change.to).map((change) => change.package);
  if (downgrades.length === 0 && removals.length === 0) {
    context.log('system', `nothing to put back: no upgrade of run ${run} in apt's history, or it was undone already`);
    return [];
  }
  await mustRun(
    node,
    { command: 'apt-get', args: [...APT_OPTIONS, '--allow-downgrades', 'install', ...downgrades, ...removals.map((name) => `${name}-`)], env: APT_ENV, asRoot: true },
    'putting back the previous versions',
  );
  return packageChanges(now, await installed(node, 'debian'));
}

async function rollbackRhel(node: NodeCommands, run: string): Promise<PackageChange[]> {
  const manager = (await node.run({ command: 'test', args: ['-x', '/usr/bin/dnf'] })).exitCode === 0 ? 'dnf' : 'yum';
  const info = await mustRun(node, { command: manager, args: ['history', 'info', 'last'], asRoot: true }, `${manager} history`);
  if (!tailText(info.lines, 'stdout', 100_000).includes(historyTag(run))) return [];
  const before = await installed(node, 'rhel');
  await mustRun(node, { command: manager, args: ['-y', 'history', 'undo', 'last'], asRoot: true }, `${manager} history undo`);
  return packageChanges(before, await installed(node, 'rhel'));
}

export const nodePackagesRollback = defineAction({
  id: 'node.packages.rollback',
  title: 'Put back the packages a run upgraded',
  description:
    'On the node (by its agent, or over SSH): finds the upgrade this run made in the package manager’s history (apt’s history.log, dnf history) and puts back the previous versions; nothing when there is none. The compensation of node.packages.upgrade.',
  risk: 'high',
  runsOn: 'node',
  overSsh: true,
  input: z.object({ run: z.string().max(300).default('').describe('The run whose upgrade to undo (empty: this run)') }).strict(),
  output: z.object({ family: z.enum(['debian', 'rhel']), changes: z.array(changeSchema), changed: z.number() }),
  defaults: { timeout: '30m', heartbeatTimeout: '1m', retry: { maxAttempts: 2, initialInterval: '30s', backoff: 2, maxInterval: '5m' } },
  create: (deps) => async (args, context) =>
    withNodeCommands(deps, context, async (node) => {
      const family = await familyOf(node);
      const run = args.run || context.step.runId;
      const changes = family === 'debian' ? await rollbackDebian(node, context, run) : await rollbackRhel(node, run);
      return { family, changes, changed: changes.length };
    }),
});

/** Tells this boot of the machine (or container) from the next: the kernel's boot id and when its PID 1 started. */
async function bootMarker(node: NodeCommands): Promise<string> {
  // Bounded: a connection to a machine going down can hang rather than fail.
  const result = await mustRun(node, { command: 'cat', args: ['/proc/sys/kernel/random/boot_id', '/proc/1/stat'], timeoutMs: 30_000 }, 'reading the boot id');
  const [bootId, stat] = tailText(result.lines, 'stdout').split('\n');
  // Field 22 of /proc/1/stat (after the parenthesised command name) is PID 1's start time.
  const startTime = stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  return `${bootId?.trim()}/${startTime}`;
}

export const nodeReboot = defineAction({
  id: 'node.reboot',
  title: 'Reboot a node and wait until it is back',
  description:
    'On the node (by its agent, or over SSH): reboots it and answers once it is back (over SSH: when it answers with another boot; by its agent: when the agent picks the step up again after the reboot). `onlyIfRequired` reboots only a node that asks for it (Debian’s /var/run/reboot-required, needs-restarting -r).',
  risk: 'high',
  runsOn: 'node',
  overSsh: true,
  input: z.object({ onlyIfRequired: z.boolean().default(false), timeout: durationArgument.default('10m').describe('How long the node may take to come back') }).strict(),
  output: z.object({ rebooted: z.boolean(), downForMs: z.number().nullable() }),
  // One attempt of its own; the retries a lost worker earns finish an agent's reboot (the agent goes down with its machine).
  defaults: { timeout: '30m', heartbeatTimeout: '30s', retry: { maxAttempts: 1, initialInterval: '5s', backoff: 2, maxInterval: '30s' } },
  create: (deps) => async (args, context) =>
    withNodeCommands(deps, context, async (node) => {
      const marker = await bootMarker(node);
      const earlier = Context.current().info.heartbeatDetails as { marker?: string; issuedAt?: number } | undefined;
      // An attempt after the agent went down with its machine: another boot means the reboot happened.
      if (earlier?.marker && earlier.marker !== marker) return { rebooted: true, downForMs: earlier.issuedAt ? Date.now() - earlier.issuedAt : null };
      if (args.onlyIfRequired) {
        const family = await familyOf(node);
        if ((await rebootWanted(node, family)).required !== true) {
          context.log('system', `${node.node} does not ask for a reboot`);
          return { rebooted: false, downForMs: null };
        }
      }
      const issuedAt = Date.now();
      context.heartbeat({ marker, issuedAt });
      context.log('system', `rebooting ${node.node}`);
      // The connection (or the agent) may go down before the command answers: what tells is the next boot.
      await node.run({ command: 'systemctl', args: ['reboot'], asRoot: true, timeoutMs: 60_000 }).catch(() => undefined);
      const deadline = issuedAt + (parseDuration(args.timeout) ?? 600_000);
      for (;;) {
        await sleep(2_000, undefined, { signal: context.signal });
        context.heartbeat({ marker, issuedAt });
        const now = await bootMarker(node).catch(() => undefined);
        if (now && now !== marker) {
          context.log('system', `${node.node} is back after ${Math.round((Date.now() - issuedAt) / 1000)} s`);
          return { rebooted: true, downForMs: Date.now() - issuedAt };
        }
        if (Date.now() > deadline) throw ApplicationFailure.nonRetryable(`${node.node} did not come back within ${args.timeout} of its reboot`, 'NotBack');
      }
    }),
});
