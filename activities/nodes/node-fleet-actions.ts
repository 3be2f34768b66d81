// Node-local actions worth running across a fleet: a command and a service
// restart, performed by each node's agent on its own machine. A command sees
// which node it runs on (JARVIS_NODE_NAME, JARVIS_NODE_ENVIRONMENT), so one
// fleet step can act per node without templating.
import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { parseDuration } from '../../manifest/duration.js';
import { defineAction, durationArgument, textArgument, type ActionDependencies } from '../action.js';
import { runActionProcess } from '../shell/action-process.js';
import { tailText } from '../shell/run-process.js';

/** What a command learns of the node it runs on. */
function nodeEnvironment(deps: ActionDependencies): Record<string, string> {
  return { ...(deps.node ? { JARVIS_NODE_NAME: deps.node.name, JARVIS_NODE_ENVIRONMENT: deps.node.environment } : {}) };
}

const commandOutput = z.object({ exitCode: z.number().nullable(), stdout: z.string(), stderr: z.string(), durationMs: z.number() });

export const nodeShellRun = defineAction({
  id: 'node.shell.run',
  title: 'Run a command on a node',
  description:
    'On the node, by its agent: runs a command (argv, or with `shell: true` through /bin/sh -c), with JARVIS_NODE_NAME set. A non-zero exit code fails the step. Use it on a fleet with `targets:`.',
  risk: 'high',
  runsOn: 'node',
  input: z
    .object({
      command: z.string().min(1),
      args: z.array(textArgument).default([]),
      shell: z.boolean().default(false),
      env: z.record(z.string(), textArgument).default({}),
      timeout: durationArgument.optional(),
      expectExitCodes: z.array(z.number().int()).default([0]),
    })
    .strict(),
  output: commandOutput,
  defaults: { timeout: '10m', heartbeatTimeout: '10s', retry: { maxAttempts: 1, initialInterval: '1s', backoff: 2, maxInterval: '1m' } },
  create: (deps) => async (args, context) => {
    const command = args.shell ? '/bin/sh' : args.command;
    const commandArgs = args.shell ? ['-c', args.command, 'jarvis-shell', ...args.args] : args.args;
    const result = await runActionProcess(context, {
      command,
      args: commandArgs,
      env: { ...args.env, ...nodeEnvironment(deps) },
      timeoutMs: args.timeout ? parseDuration(args.timeout) : undefined,
    }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') throw ApplicationFailure.nonRetryable(`command not found: ${args.command}`, 'CommandNotFound');
      throw error;
    });
    if (result.timedOut) throw ApplicationFailure.retryable(`command timed out after ${args.timeout}`, 'CommandTimedOut');
    if (result.exitCode === null || !args.expectExitCodes.includes(result.exitCode)) {
      const why = result.exitCode === null ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
      const last = tailText(result.lines, 'stderr', 500) || tailText(result.lines, 'stdout', 500);
      throw ApplicationFailure.retryable(`command ${why}${last ? `: ${last}` : ''}`, 'CommandFailed', { exitCode: result.exitCode });
    }
    return { exitCode: result.exitCode, stdout: tailText(result.lines, 'stdout', 2_000), stderr: tailText(result.lines, 'stderr', 2_000), durationMs: result.durationMs };
  },
});

const UNIT_NAME = /^[A-Za-z0-9][A-Za-z0-9@_.:-]{0,254}$/;

export const nodeServiceRestart = defineAction({
  id: 'node.service.restart',
  title: 'Restart a service on a node',
  description: 'On the node, by its agent: `systemctl restart UNIT`, then reports whether the unit is active.',
  risk: 'medium',
  runsOn: 'node',
  input: z.object({ service: z.string().regex(UNIT_NAME, 'a systemd unit name such as nginx or nginx.service') }).strict(),
  output: z.object({ service: z.string(), active: z.string() }),
  defaults: { timeout: '2m', heartbeatTimeout: '10s', retry: { maxAttempts: 2, initialInterval: '2s', backoff: 2, maxInterval: '30s' } },
  create: () => async (args, context) => {
    // The unit is one argv entry after "--": never a shell, never an option.
    const restart = await runActionProcess(context, { command: 'systemctl', args: ['restart', '--', args.service] }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') throw ApplicationFailure.nonRetryable('this node has no systemctl (not a systemd host)', 'NoSystemd');
      throw error;
    });
    if (restart.exitCode !== 0)
      throw ApplicationFailure.retryable(`systemctl restart ${args.service} exited with code ${restart.exitCode}: ${tailText(restart.lines, 'stderr', 500)}`, 'RestartFailed');
    const state = await runActionProcess(context, { command: 'systemctl', args: ['is-active', '--', args.service] });
    const active = tailText(state.lines, 'stdout', 100).trim() || 'unknown';
    if (active !== 'active') throw ApplicationFailure.retryable(`${args.service} is ${active} after its restart`, 'ServiceNotActive');
    return { service: args.service, active };
  },
});
