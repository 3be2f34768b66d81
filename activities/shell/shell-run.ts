import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { parseDuration } from '../../manifest/duration.js';
import { defineAction, durationArgument, textArgument, type ActionContext } from '../action.js';
import { artifactRequestsArgument, artifactRequestsOf, publishedArtifactSchema, publishStepFiles } from '../artifact-publishing.js';
import { withPrivateFolder } from './action-sandbox.js';
import { runActionProcess } from './action-process.js';
import { tailText } from './run-process.js';

const lineSchema = z.object({ stream: z.enum(['stdout', 'stderr', 'system']), text: z.string(), at: z.string() });

const shellRunInput = z
  .object({
    command: z.string().min(1),
    args: z.array(textArgument).default([]),
    shell: z.boolean().default(false),
    env: z.record(z.string(), textArgument).default({}),
    cwd: z.string().optional(),
    timeout: durationArgument.optional(),
    expectExitCodes: z.array(z.number().int()).default([0]),
    artifacts: artifactRequestsArgument.default([]),
  })
  .strict();

export const shellRun = defineAction({
  id: 'shell.run',
  title: 'Run a command',
  description:
    'Runs a command on the worker (with `shell: true`, through /bin/sh -c). Output is streamed as lines; a non-zero exit code fails the step. Files named in `artifacts` (relative to the working directory) are published once the command exits.',
  risk: 'high',
  input: shellRunInput,
  output: z.object({
    exitCode: z.number().nullable(),
    stdout: z.string(),
    stderr: z.string(),
    lines: z.array(lineSchema),
    lineCount: z.number(),
    durationMs: z.number(),
    artifacts: z.array(publishedArtifactSchema).optional(),
  }),
  defaults: {
    timeout: '10m',
    heartbeatTimeout: '10s',
    retry: { maxAttempts: 1, initialInterval: '1s', backoff: 2, maxInterval: '1m' },
  },
  create: (deps) => async (args, context) => {
    if (args.artifacts.length === 0) return runCommand(args, context);
    // The private folder outlives the command until its files are published (it is the working directory without `cwd`).
    return withPrivateFolder(context.processes, 'jarvis-action-', async (home) => {
      const output = await runCommand(args, context, home);
      const artifacts = await publishStepFiles(deps, context, args.cwd ?? home, artifactRequestsOf(args.artifacts));
      return { ...output, artifacts };
    });
  },
});

async function runCommand(args: z.output<typeof shellRunInput>, context: ActionContext, home?: string) {
  const command = args.shell ? '/bin/sh' : args.command;
  const commandArgs = args.shell ? ['-c', args.command, 'jarvis-shell', ...args.args] : args.args;
  const result = await runActionProcess(context, {
    command,
    args: commandArgs,
    env: args.env,
    cwd: args.cwd,
    ...(home !== undefined ? { home } : {}),
    timeoutMs: args.timeout ? parseDuration(args.timeout) : undefined,
  }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') {
      throw ApplicationFailure.nonRetryable(`command not found: ${args.command}`, 'CommandNotFound');
    }
    throw error;
  });
  const output = {
    exitCode: result.exitCode,
    stdout: tailText(result.lines, 'stdout'),
    stderr: tailText(result.lines, 'stderr'),
    lines: result.lines,
    lineCount: result.lineCount,
    durationMs: result.durationMs,
  };
  if (result.timedOut) {
    throw ApplicationFailure.retryable(`command timed out after ${args.timeout}`, 'CommandTimedOut');
  }
  if (result.exitCode === null || !args.expectExitCodes.includes(result.exitCode)) {
    const why = result.exitCode === null ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
    const lastError = tailText(result.lines, 'stderr', 500) || tailText(result.lines, 'stdout', 500);
    throw ApplicationFailure.retryable(`command ${why}${lastError ? `: ${lastError}` : ''}`, 'CommandFailed', {
      exitCode: result.exitCode,
    });
  }
  return output;
}
