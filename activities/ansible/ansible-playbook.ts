import { ApplicationFailure } from '@temporalio/activity';
import path from 'node:path';
import { z } from 'zod';
import { parseDuration } from '../../manifest/duration.js';
import { writeFile } from 'node:fs/promises';
import { pinnedHostKeyOptions } from '../../infra/ssh-host-keys.js';
import { defineAction, durationArgument, type ActionContext, type ActionDependencies } from '../action.js';
import { publishBytes, publishedArtifactSchema } from '../artifact-publishing.js';
import { sshTargetArguments, sshTargetFor, withTargetSession } from '../ssh/ssh-actions.js';
import { runActionProcess } from '../shell/action-process.js';
import { copyForActionUser, giveToActionUser, withPrivateFolder } from '../shell/action-sandbox.js';
import { lastLines, runProcess } from '../shell/run-process.js';
import { unsafeExtraVarsYaml } from './extra-vars.js';
import { parsePlayRecap } from './recap.js';

const hostRecapSchema = z.object({
  ok: z.number(),
  changed: z.number(),
  unreachable: z.number(),
  failed: z.number(),
  skipped: z.number(),
  rescued: z.number(),
  ignored: z.number(),
});

const playbookInput = z
  .object({
    playbook: z.string().min(1),
    inventory: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    sshConnection: z.string().min(1).optional().describe('An `ssh` connection to play against (address, port, user and key), instead of `inventory`'),
    host: sshTargetArguments.host,
    become: z.boolean().default(false),
    extraVars: z.record(z.string(), z.unknown()).default({}),
    limit: z.string().optional(),
    tags: z.array(z.string()).default([]),
    check: z.boolean().default(false),
    connection: z.enum(['ssh', 'local']).optional(),
    user: z.string().optional(),
    privateKeyFile: z.string().optional(),
    timeout: durationArgument.optional(),
  })
  .strict()
  .refine((args) => (args.inventory === undefined) !== (args.sshConnection === undefined), {
    message: 'give either inventory or sshConnection',
    path: ['inventory'],
  });

export const ansiblePlaybook = defineAction({
  id: 'ansible.playbook',
  title: 'Run an Ansible playbook',
  description:
    'Runs ansible-playbook with an inventory (a file, or a list of hosts) or against the machine of an `ssh` connection (its key written to a private folder for the run of the playbook only), with extra variables. Output is streamed as lines and the PLAY RECAP is parsed per host and published as a JSON artifact (ansible-recap.json).',
  risk: 'high',
  input: playbookInput,
  output: z.object({
    exitCode: z.number().nullable(),
    recap: z.record(z.string(), hostRecapSchema),
    changed: z.number(),
    failedHosts: z.array(z.string()),
    lineCount: z.number(),
    recapArtifact: publishedArtifactSchema.optional(),
  }),
  defaults: {
    timeout: '30m',
    heartbeatTimeout: '30s',
    retry: { maxAttempts: 1, initialInterval: '5s', backoff: 2, maxInterval: '1m' },
  },
  create: (deps) => async (args, context) => {
    if (args.sshConnection) {
      const target = await sshTargetFor(deps, context, args.sshConnection, args.host);
      return withTargetSession(deps, context, target, async (session) => {
        // The host key is pinned (first use) or read from the pin before Ansible connects, and Ansible's ssh accepts that key alone.
        await session.trustHostKey();
        // One host, with its address, port, login and key as inventory variables.
        const inventory = path.join(session.folder, 'inventory');
        const user = args.user ?? target.user;
        const hostLine = `${target.host} ansible_host=${target.host} ansible_port=${target.port} ansible_user=${user} ansible_ssh_private_key_file=${session.keyFile}`;
        await writeFile(inventory, `${hostLine}\n`, { mode: 0o600 });
        // ansible-playbook runs as the action user: it needs the folder, its key and inventory.
        for (const file of [session.folder, session.keyFile, inventory]) await giveToActionUser(context.processes, file);
        // One master connection per step, kept in the private folder: a play that switches root
        // login off keeps the login it started with, and nothing outlives the step.
        const controlPath = path.join(session.folder, 'cp-%%C');
        const sshEnv = {
          ANSIBLE_SSH_ARGS: ['-o', 'ControlMaster=auto', '-o', 'ControlPersist=30s', '-o', 'IdentitiesOnly=yes', ...pinnedHostKeyOptions(session.knownHostsFile)].join(' '),
          ANSIBLE_SSH_CONTROL_PATH: controlPath,
        };
        try {
          return await runPlaybook(deps, context, { ...args, extraVars: { jarvis_ssh_public_key: session.publicKey, ...args.extraVars } }, inventory, target.host, session.folder, sshEnv, (lines) =>
            session.checkHostKeyRefusal(lines),
          );
        } finally {
          await runProcess({ command: 'ssh', args: ['-o', `ControlPath=${controlPath.replace('%%', '%')}`, '-O', 'exit', `${user}@${target.host}`], timeoutMs: 5_000 }).catch(() => undefined);
        }
      });
    }
    // A list of hosts becomes an inline inventory: "a,b," (the trailing comma tells Ansible it is a list).
    const inventory = Array.isArray(args.inventory) ? `${args.inventory.join(',')},` : (args.inventory ?? '');
    return withPrivateFolder(context.processes, 'jarvis-ansible-', (folder) => runPlaybook(deps, context, args, inventory, inventory, folder));
  },
});

async function runPlaybook(
  deps: ActionDependencies,
  context: ActionContext,
  args: z.output<typeof playbookInput>,
  inventory: string,
  shownAs: string,
  folder: string,
  sshEnv: Record<string, string> = {},
  /** Reads the output before the exit code is judged (a refused host key fails for good). */
  checkOutput: (lines: Array<{ text: string }>) => Promise<void> = async () => {},
) {
  const playbooksDir = path.resolve(deps.playbooksDir);
  if (!path.resolve(playbooksDir, args.playbook).startsWith(playbooksDir + path.sep)) {
    throw ApplicationFailure.nonRetryable(`playbook ${args.playbook} is outside the playbooks folder`, 'InvalidArguments');
  }
  // The action user plays a copy: it may not be able to read the installation's own folders.
  await copyForActionUser(context.processes, playbooksDir, path.join(folder, 'playbooks'));
  const playbook = path.resolve(folder, 'playbooks', args.playbook);
  // Values reach Ansible as data: a file of `!unsafe` strings, never a templated command-line value.
  const extraVarsFile = path.join(folder, 'extra-vars.yml');
  await writeFile(extraVarsFile, unsafeExtraVarsYaml(args.extraVars), { mode: 0o600 });
  await giveToActionUser(context.processes, extraVarsFile);
  // `--option=value` so that no value can pass for an option, and `--` before the playbook.
  const commandArgs = [`--inventory=${inventory}`, `--extra-vars=@${extraVarsFile}`];
  if (args.limit) commandArgs.push(`--limit=${args.limit}`);
  if (args.tags.length > 0) commandArgs.push(`--tags=${args.tags.join(',')}`);
  if (args.check) commandArgs.push('--check');
  if (args.become) commandArgs.push('--become');
  if (args.connection) commandArgs.push(`--connection=${args.connection}`);
  if (args.user) commandArgs.push(`--user=${args.user}`);
  if (args.privateKeyFile) commandArgs.push(`--private-key=${args.privateKeyFile}`);
  commandArgs.push('--', playbook);
  context.log('system', `ansible-playbook ${path.basename(playbook)} on ${shownAs}`);
  const result = await runActionProcess(context, {
    command: 'ansible-playbook',
    args: commandArgs,
    home: folder,
    env: {
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_FORCE_COLOR: '0',
      // Hosts are checked: against the connection's pinned key, or (an inventory) the system's known hosts.
      ANSIBLE_HOST_KEY_CHECKING: 'True',
      ANSIBLE_RETRY_FILES_ENABLED: '0',
      ANSIBLE_LOCALHOST_WARNING: 'False',
      ANSIBLE_INVENTORY_UNPARSED_WARNING: 'False',
      PYTHONUNBUFFERED: '1',
      // Played locally as the action user, whose account may have no home: its private folder instead.
      ...(args.connection === 'local' ? { ANSIBLE_REMOTE_TMP: path.join(folder, '.ansible', 'tmp') } : {}),
      ...sshEnv,
    },
    timeoutMs: args.timeout ? parseDuration(args.timeout) : undefined,
  }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') {
      throw ApplicationFailure.nonRetryable('ansible-playbook is not installed on this worker', 'CommandNotFound');
    }
    throw error;
  });
  if (result.exitCode !== 0) await checkOutput(result.lines);
  const recap = parsePlayRecap(result.lines.map((line) => line.text));
  const failedHosts = Object.entries(recap)
    .filter(([, counts]) => counts.failed > 0 || counts.unreachable > 0)
    .map(([host]) => host);
  const changed = Object.values(recap).reduce((sum, counts) => sum + counts.changed, 0);
  // The recap as a JSON artifact, failed plays included: it is what people download to compare hosts.
  const recapArtifact =
    Object.keys(recap).length > 0
      ? await publishBytes(deps, context, 'ansible-recap.json', 'application/json', Buffer.from(JSON.stringify({ playbook: args.playbook, exitCode: result.exitCode, recap }, null, 2)))
      : undefined;
  if (result.exitCode !== 0) {
    const detail = failedHosts.length > 0 ? `failed on ${failedHosts.join(', ')}` : `exited with code ${result.exitCode}`;
    throw ApplicationFailure.retryable(`playbook ${args.playbook} ${detail}\n${lastLines(result)}`, 'AnsibleFailed', { recap });
  }
  return { exitCode: result.exitCode, recap, changed, failedHosts, lineCount: result.lineCount, ...(recapArtifact ? { recapArtifact } : {}) };
}
