import { ApplicationFailure } from '@temporalio/activity';
import path from 'node:path';
import { z } from 'zod';
import { parseDuration } from '../../manifest/duration.js';
import { defineAction, durationArgument } from '../action.js';
import { runActionProcess } from '../shell/action-process.js';
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

export const ansiblePlaybook = defineAction({
  id: 'ansible.playbook',
  title: 'Run an Ansible playbook',
  description:
    'Runs ansible-playbook with an inventory (a file, or a list of hosts) and extra variables. Output is streamed as lines and the PLAY RECAP is parsed per host.',
  risk: 'high',
  input: z
    .object({
      playbook: z.string().min(1),
      inventory: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
      extraVars: z.record(z.string(), z.unknown()).default({}),
      limit: z.string().optional(),
      tags: z.array(z.string()).default([]),
      check: z.boolean().default(false),
      connection: z.enum(['ssh', 'local']).optional(),
      user: z.string().optional(),
      privateKeyFile: z.string().optional(),
      timeout: durationArgument.optional(),
    })
    .strict(),
  output: z.object({
    exitCode: z.number().nullable(),
    recap: z.record(z.string(), hostRecapSchema),
    changed: z.number(),
    failedHosts: z.array(z.string()),
    lineCount: z.number(),
  }),
  defaults: {
    timeout: '30m',
    heartbeatTimeout: '30s',
    retry: { maxAttempts: 1, initialInterval: '5s', backoff: 2, maxInterval: '1m' },
  },
  create: (deps) => async (args, context) => {
    const playbook = path.resolve(deps.playbooksDir, args.playbook);
    // A list of hosts becomes an inline inventory: "a,b," (the trailing comma tells Ansible it is a list).
    const inventory = Array.isArray(args.inventory) ? `${args.inventory.join(',')},` : args.inventory;
    const commandArgs = ['-i', inventory, playbook, '--extra-vars', JSON.stringify(args.extraVars)];
    if (args.limit) commandArgs.push('--limit', args.limit);
    if (args.tags.length > 0) commandArgs.push('--tags', args.tags.join(','));
    if (args.check) commandArgs.push('--check');
    if (args.connection) commandArgs.push('--connection', args.connection);
    if (args.user) commandArgs.push('--user', args.user);
    if (args.privateKeyFile) commandArgs.push('--private-key', args.privateKeyFile);
    context.log('system', `ansible-playbook ${path.basename(playbook)} on ${inventory}`);
    const result = await runActionProcess(context, {
      command: 'ansible-playbook',
      args: commandArgs,
      env: {
        ANSIBLE_NOCOLOR: '1',
        ANSIBLE_FORCE_COLOR: '0',
        ANSIBLE_HOST_KEY_CHECKING: 'False',
        ANSIBLE_RETRY_FILES_ENABLED: '0',
        ANSIBLE_LOCALHOST_WARNING: 'False',
        ANSIBLE_INVENTORY_UNPARSED_WARNING: 'False',
        PYTHONUNBUFFERED: '1',
      },
      timeoutMs: args.timeout ? parseDuration(args.timeout) : undefined,
    }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        throw ApplicationFailure.nonRetryable('ansible-playbook is not installed on this worker', 'CommandNotFound');
      }
      throw error;
    });
    const recap = parsePlayRecap(result.lines.map((line) => line.text));
    const failedHosts = Object.entries(recap)
      .filter(([, counts]) => counts.failed > 0 || counts.unreachable > 0)
      .map(([host]) => host);
    const changed = Object.values(recap).reduce((sum, counts) => sum + counts.changed, 0);
    if (result.exitCode !== 0) {
      const detail = failedHosts.length > 0 ? `failed on ${failedHosts.join(', ')}` : `exited with code ${result.exitCode}`;
      const lastLines = result.lines
        .slice(-5)
        .map((line) => line.text)
        .join('\n');
      throw ApplicationFailure.retryable(`playbook ${args.playbook} ${detail}\n${lastLines}`, 'AnsibleFailed', { recap });
    }
    return { exitCode: result.exitCode, recap, changed, failedHosts, lineCount: result.lineCount };
  },
});
