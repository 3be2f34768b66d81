// Node-local actions worth running across a fleet: a command and a service
// restart, on each node's own machine: by its agent, or over SSH through the
// node's connection when it has no agent (see node-commands.ts). A command
// sees which node it runs on (JARVIS_NODE_NAME, JARVIS_NODE_ENVIRONMENT), so
// one fleet step can act per node without templating.
import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { parseDuration } from '../../manifest/duration.js';
import { defineAction, durationArgument, textArgument } from '../action.js';
import { tailText } from '../shell/run-process.js';
import { ENV_NAME, withNodeCommands } from './node-commands.js';

const commandOutput = z.object({ exitCode: z.number().nullable(), stdout: z.string(), stderr: z.string(), durationMs: z.number() });

export const nodeShellRun = defineAction({
  id: 'node.shell.run',
  title: 'Run a command on a node',
  description:
    'On the node (by its agent, or over SSH for a node without one): runs a command (argv, or with `shell: true` through /bin/sh -c), with JARVIS_NODE_NAME set. A non-zero exit code fails the step. Use it on a fleet with `targets:`.',
  risk: 'high',
  runsOn: 'node',
  overSsh: true,
  input: z
    .object({
      command: z.string().min(1),
      args: z.array(textArgument).default([]),
      shell: z.boolean().default(false),
      env: z.record(z.string().regex(ENV_NAME, 'an environment variable name (letters, digits and _)'), textArgument).default({}),
      timeout: durationArgument.optional(),
      expectExitCodes: z.array(z.number().int()).default([0]),
    })
    .strict(),
  output: commandOutput,
  defaults: { timeout: '10m', heartbeatTimeout: '10s', retry: { maxAttempts: 1, initialInterval: '1s', backoff: 2, maxInterval: '1m' } },
  create: (deps) => async (args, context) =>
    withNodeCommands(deps, context, async (node) => {
      const result = await node
        .run({
          command: args.shell ? '/bin/sh' : args.command,
          args: args.shell ? ['-c', args.command, 'jarvis-shell', ...args.args] : args.args,
          env: args.env,
          ...(args.timeout ? { timeoutMs: parseDuration(args.timeout) } : {}),
        })
        .catch((error: NodeJS.ErrnoException) => {
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
    }),
});

const UNIT_NAME = /^[A-Za-z0-9][A-Za-z0-9@_.:-]{0,254}$/;

export const nodeServiceRestart = defineAction({
  id: 'node.service.restart',
  title: 'Restart a service on a node',
  description: 'On the node (by its agent, or over SSH for a node without one): `systemctl restart UNIT` as root, then reports whether the unit is active.',
  risk: 'medium',
  runsOn: 'node',
  overSsh: true,
  input: z.object({ service: z.string().regex(UNIT_NAME, 'a systemd unit name such as nginx or nginx.service') }).strict(),
  output: z.object({ service: z.string(), active: z.string() }),
  defaults: { timeout: '2m', heartbeatTimeout: '10s', retry: { maxAttempts: 2, initialInterval: '2s', backoff: 2, maxInterval: '30s' } },
  create: (deps) => async (args, context) =>
    withNodeCommands(deps, context, async (node) => {
      // The unit is one argv entry after "--": never a shell, never an option.
      const restart = await node.run({ command: 'systemctl', args: ['restart', '--', args.service], asRoot: true }).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') throw ApplicationFailure.nonRetryable('this node has no systemctl (not a systemd host)', 'NoSystemd');
        throw error;
      });
      if (restart.exitCode !== 0)
        throw ApplicationFailure.retryable(`systemctl restart ${args.service} exited with code ${restart.exitCode}: ${tailText(restart.lines, 'stderr', 500)}`, 'RestartFailed');
      const state = await node.run({ command: 'systemctl', args: ['is-active', '--', args.service] });
      const active = tailText(state.lines, 'stdout', 100).trim() || 'unknown';
      if (active !== 'active') throw ApplicationFailure.retryable(`${args.service} is ${active} after its restart`, 'ServiceNotActive');
      return { service: args.service, active };
    }),
});
