// Reaching a machine over SSH through an `ssh` connection of the run's
// environment: wait until it answers, run a command, read its hardware
// profile. The key is written to a private temporary folder per action and
// removed afterwards; it never reaches a log or the run's history. The
// machine's host key is pinned on the connection by the first step that
// reaches it; a step that meets another key fails for good.
import { ApplicationFailure } from '@temporalio/activity';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { PROJECT_ROOT } from '../../config/env.js';
import { hardwareProfileSchema } from '../../infra/node-profile.js';
import { HostKeyMismatchError, HostKeyUnavailableError } from '../../infra/ssh-host-keys.js';
import { sshCommandArgs, SshTargetError, sshTargetFrom, withSshSession, type SshSession, type SshTarget } from '../../infra/ssh-target.js';
import { parseDuration } from '../../manifest/duration.js';
import { defineAction, durationArgument, type ActionContext, type ActionDependencies } from '../action.js';
import { openConnection } from '../connections.js';
import { runActionProcess } from '../shell/action-process.js';
import { actionEnvironment } from '../shell/action-sandbox.js';
import { lastLines, runProcess } from '../shell/run-process.js';

const PROFILE_SCRIPT = path.join(PROJECT_ROOT, 'infra', 'remote', 'collect-profile.py');

/** ssh's own exit code when it fails (a remote command's is passed through). */
const SSH_FAILED = 255;

export const sshTargetArguments = {
  connection: z.string().min(1).describe('An `ssh` connection: config {host, port, user}, its secret the private key'),
  host: z.string().default('').describe("Overrides the connection's host (a server created earlier in the run); empty keeps it"),
  user: z
    .string()
    .regex(/^([a-z_][a-z0-9_-]*)?$/)
    .default('')
    .describe("Login name; empty uses the connection's"),
};

/** Opens an `ssh` connection of the run's environment as a target; a misconfigured one fails for good. */
export function sshTargetFor(deps: ActionDependencies, context: ActionContext, connection: string, host: string): Promise<SshTarget> {
  return openConnection(deps, context, connection, (resolved) => sshTargetFrom(resolved, host), SshTargetError);
}

/**
 * Holds the target's key on disk while `work` runs, with the connection's
 * host key pins; a key other than the pinned one fails the step for good.
 */
export async function withTargetSession<Result>(
  deps: ActionDependencies,
  context: ActionContext,
  target: SshTarget,
  work: (session: SshSession) => Promise<Result>,
): Promise<Result> {
  if (!deps.connections) throw ApplicationFailure.nonRetryable('this worker has no database, so it cannot reach connections', 'NoConnections');
  const trust = {
    pins: deps.connections.hostKeys(target.connection.id),
    pinnedBy: `run ${context.step.runId} step ${context.step.stepId}`,
    log: (text: string) => context.log('system', text),
  };
  try {
    return await withSshSession(target, trust, context.processes, work);
  } catch (error) {
    if (error instanceof HostKeyMismatchError) throw ApplicationFailure.nonRetryable(error.message, 'HostKeyMismatch');
    if (error instanceof HostKeyUnavailableError) throw ApplicationFailure.retryable(error.message, 'SshUnreachable');
    if (error instanceof SshTargetError) throw ApplicationFailure.nonRetryable(error.message, 'BadConnection');
    throw error;
  }
}

/** Opens the step's target, picks its login, pins or checks its host key and holds the key on disk while `work` runs. */
async function onTarget<Result>(
  deps: ActionDependencies,
  context: ActionContext,
  args: { connection: string; host: string; user: string },
  work: (target: SshTarget, user: string, session: SshSession) => Promise<Result>,
): Promise<Result> {
  const target = await sshTargetFor(deps, context, args.connection, args.host);
  return withTargetSession(deps, context, target, async (session) => {
    await session.trustHostKey();
    return work(target, args.user || target.user, session);
  });
}

/** Wraps a command so it runs as root through sudo when the login is not root. */
function asRoot(user: string, command: string): string {
  return user === 'root' ? command : `sudo -n ${command}`;
}

/** Runs one command on the target as the action user; resolves with its exit code and output lines (not logged). */
async function runRemote(context: ActionContext, target: SshTarget, user: string, session: SshSession, command: string, timeoutMs: number) {
  const result = await runProcess({
    command: 'ssh',
    args: sshCommandArgs(target, user, session, command),
    env: actionEnvironment(context.processes, session.folder),
    ...(context.processes.user ? { user: context.processes.user } : {}),
    // Recorded like a shell step's process, so a worker that starts after a crash ends an ssh left running.
    ...(context.processes.ledger ? { ledger: context.processes.ledger } : {}),
    cwd: session.folder,
    timeoutMs,
    signal: context.signal,
  });
  // 255: ssh itself failed (the remote command did not run).
  if (result.exitCode === SSH_FAILED) await session.checkHostKeyRefusal(result.lines);
  return result;
}

export const sshWait = defineAction({
  id: 'ssh.wait',
  title: 'Wait for SSH',
  description:
    "Waits until the machine accepts an SSH login with the connection's key. Tries the logins in `users` first (a deploy user made by an earlier hardening), then the connection's, and answers the one that worked.",
  risk: 'low',
  input: z
    .object({
      connection: sshTargetArguments.connection,
      host: sshTargetArguments.host,
      users: z.array(z.string().regex(/^[a-z_][a-z0-9_-]*$/)).default([]),
      timeout: durationArgument.default('5m'),
      interval: durationArgument.default('3s'),
    })
    .strict(),
  output: z.object({
    host: z.string(),
    port: z.number(),
    user: z.string(),
    attempts: z.number(),
    waitedMs: z.number(),
  }),
  defaults: {
    timeout: '15m',
    heartbeatTimeout: '1m',
    retry: {
      maxAttempts: 2,
      initialInterval: '5s',
      backoff: 2,
      maxInterval: '1m',
    },
  },
  create: (deps) => async (args, context) => {
    const target = await sshTargetFor(deps, context, args.connection, args.host);
    const logins = [...new Set([...args.users, target.user])];
    const deadline = Date.now() + (parseDuration(args.timeout) ?? 300_000);
    const started = Date.now();
    return withTargetSession(deps, context, target, async (session) => {
      let attempts = 0;
      let lastError = '';
      for (;;) {
        // Until the machine answers, there is no host key to pin or check.
        const answered = await session.trustHostKey().then(
          () => true,
          (error: unknown) => {
            if (!(error instanceof HostKeyUnavailableError)) throw error;
            attempts += 1;
            lastError = error.message;
            return false;
          },
        );
        for (const user of answered ? logins : []) {
          attempts += 1;
          const result = await runRemote(context, target, user, session, 'true', 30_000);
          if (result.exitCode === 0) {
            context.log('system', `ssh ${user}@${target.host}:${target.port} answered after ${attempts} attempt(s)`);
            return {
              host: target.host,
              port: target.port,
              user,
              attempts,
              waitedMs: Date.now() - started,
            };
          }
          lastError =
            result.lines
              .map((line) => line.text)
              .join(' ')
              .trim() || `exit code ${result.exitCode}`;
        }
        context.heartbeat({ attempts });
        if (Date.now() >= deadline)
          throw ApplicationFailure.retryable(`${target.host}:${target.port} did not accept SSH (${logins.join(', ')}): ${lastError}`, 'SshUnreachable');
        if (attempts <= logins.length) context.log('system', `waiting for SSH on ${target.host}:${target.port}: ${lastError}`);
        await sleep(parseDuration(args.interval) ?? 3_000, undefined, {
          signal: context.signal,
        });
      }
    });
  },
});

export const sshCommand = defineAction({
  id: 'ssh.command',
  title: 'Run a command over SSH',
  description: 'Runs a shell command on the machine (as root through sudo with `become`); output is streamed as lines; a non-zero exit fails the step.',
  risk: 'high',
  input: z
    .object({
      ...sshTargetArguments,
      command: z.string().min(1),
      become: z.boolean().default(false),
      timeout: durationArgument.default('10m'),
    })
    .strict(),
  output: z.object({
    exitCode: z.number().nullable(),
    stdout: z.array(z.string()),
    lineCount: z.number(),
  }),
  defaults: {
    timeout: '30m',
    heartbeatTimeout: '30s',
    retry: {
      maxAttempts: 1,
      initialInterval: '5s',
      backoff: 2,
      maxInterval: '1m',
    },
  },
  create: (deps) => async (args, context) =>
    onTarget(deps, context, args, async (target, user, session) => {
      const command = args.become ? asRoot(user, `sh -c ${shellQuote(args.command)}`) : args.command;
      context.log('system', `ssh ${user}@${target.host}: ${args.command}`);
      const result = await runActionProcess(context, {
        command: 'ssh',
        args: sshCommandArgs(target, user, session, command),
        home: session.folder,
        timeoutMs: parseDuration(args.timeout),
      });
      if (result.exitCode === SSH_FAILED) await session.checkHostKeyRefusal(result.lines);
      const stdout = result.lines.filter((line) => line.stream === 'stdout').map((line) => line.text);
      if (result.exitCode !== 0) {
        const reason = result.timedOut ? 'timed out' : `exited with code ${result.exitCode}`;
        throw ApplicationFailure.retryable(`command on ${target.host} ${reason}\n${lastLines(result)}`, 'RemoteCommandFailed');
      }
      return { exitCode: result.exitCode, stdout: stdout.slice(-200), lineCount: result.lineCount };
    }),
});

export const sshProfile = defineAction({
  id: 'ssh.profile',
  title: "Read a machine's hardware profile over SSH",
  description: 'Reads CPU, memory, disks, network interfaces, OS and Docker (with Swarm membership) from the machine; changes nothing on it.',
  risk: 'low',
  input: z.object({ ...sshTargetArguments }).strict(),
  output: hardwareProfileSchema,
  defaults: {
    timeout: '2m',
    retry: {
      maxAttempts: 3,
      initialInterval: '3s',
      backoff: 2,
      maxInterval: '30s',
    },
  },
  create: (deps) => async (args, context) => {
    const script = Buffer.from(await readFile(PROFILE_SCRIPT)).toString('base64');
    return onTarget(deps, context, args, async (target, user, session) => {
      // base64 keeps the script clear of every shell's quoting rules on the way.
      const command = asRoot(user, `python3 -c 'import base64; exec(base64.b64decode("${script}"))'`);
      const result = await runRemote(context, target, user, session, command, 60_000);
      const stdout = result.lines
        .filter((line) => line.stream === 'stdout')
        .map((line) => line.text)
        .join('\n');
      if (result.exitCode !== 0) {
        throw ApplicationFailure.retryable(`reading the profile of ${target.host} failed: ${lastLines(result, 3)}`, 'ProfileFailed');
      }
      let answer: unknown;
      try {
        answer = JSON.parse(stdout);
      } catch {
        throw ApplicationFailure.nonRetryable(`the profile of ${target.host} is not JSON: ${stdout.slice(0, 200)}`, 'ProfileFailed');
      }
      const parsed = hardwareProfileSchema.safeParse(answer);
      if (!parsed.success) throw ApplicationFailure.nonRetryable(`the profile of ${target.host} is not understood: ${parsed.error.message}`, 'ProfileFailed');
      const profile = parsed.data;
      context.log(
        'system',
        `${profile.hostname}: ${profile.os.name} ${profile.os.version}, ${profile.cpu.cores} CPU, ${Math.round(profile.memoryBytes / 2 ** 20)} MiB, Docker ${profile.docker?.version ?? 'absent'}`,
      );
      return profile;
    });
  },
});

/** Quotes a string for a POSIX shell. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
