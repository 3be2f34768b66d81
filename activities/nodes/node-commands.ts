// Where a node-local action runs its commands: on the node itself, by its
// agent, or over SSH from a main worker for a node without an agent (the fleet
// step routes it there with the node's `ssh` connection and address). Either
// way a command is an argv: over SSH each word is quoted for the remote shell,
// so no value reaches it as shell syntax.
import { ApplicationFailure } from '@temporalio/activity';
import type { ActionContext, ActionDependencies } from '../action.js';
import { runActionProcess } from '../shell/action-process.js';
import type { ProcessResult } from '../shell/run-process.js';
import { shellQuote, sshTargetFor, withTargetSession } from '../ssh/ssh-actions.js';
import { sshCommandArgs } from '../../infra/ssh-target.js';

/** ssh's own exit code when it fails (a remote command's is passed through). */
const SSH_FAILED = 255;

/** Environment variable names a command may be given: anything else could be read as an option or as shell syntax. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface NodeCommand {
  command: string;
  args?: string[];
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Runs as root: through `sudo -n` when the login (or the agent's user) is not root. */
  asRoot?: boolean;
}

export interface NodeCommands {
  /** The node the commands run on. */
  node: string;
  via: 'agent' | 'ssh';
  run(command: NodeCommand): Promise<ProcessResult>;
}

function checkEnv(env: Record<string, string>): void {
  const bad = Object.keys(env).find((name) => !ENV_NAME.test(name));
  if (bad !== undefined) throw ApplicationFailure.nonRetryable(`"${bad}" is not an environment variable name (letters, digits and _)`, 'InvalidArguments');
}

/** The remote command line of an argv: `[sudo -n] env -- NAME=VALUE… COMMAND ARG…`, every word quoted. */
export function remoteCommandLine(command: NodeCommand, login: string, node: { name: string; environment: string }): string {
  const env = { ...command.env, JARVIS_NODE_NAME: node.name, JARVIS_NODE_ENVIRONMENT: node.environment };
  checkEnv(env);
  const words = ['env', '--', ...Object.entries(env).map(([name, value]) => `${name}=${value}`), command.command, ...(command.args ?? [])];
  return [...(command.asRoot && login !== 'root' ? ['sudo', '-n'] : []), ...words].map(shellQuote).join(' ');
}

async function onAgent<Result>(deps: ActionDependencies, context: ActionContext, work: (commands: NodeCommands) => Promise<Result>): Promise<Result> {
  const node = deps.node!;
  const root = process.getuid?.() === 0;
  return work({
    node: node.name,
    via: 'agent',
    run: async (command) => {
      const env = { ...command.env, JARVIS_NODE_NAME: node.name, JARVIS_NODE_ENVIRONMENT: node.environment };
      checkEnv(env);
      const sudo = command.asRoot && !root;
      return runActionProcess(context, {
        command: sudo ? 'sudo' : command.command,
        args: sudo ? ['-n', command.command, ...(command.args ?? [])] : (command.args ?? []),
        env,
        ...(command.timeoutMs !== undefined ? { timeoutMs: command.timeoutMs } : {}),
      });
    },
  });
}

async function overSsh<Result>(deps: ActionDependencies, context: ActionContext, work: (commands: NodeCommands) => Promise<Result>): Promise<Result> {
  const route = context.step.ssh!;
  const target = await sshTargetFor(deps, context, route.connection, route.address);
  const login = route.user || target.user;
  const node = { name: route.node, environment: context.step.environment };
  return withTargetSession(deps, context, target, async (session) => {
    await session.trustHostKey();
    return work({
      node: route.node,
      via: 'ssh',
      run: async (command) => {
        const result = await runActionProcess(context, {
          command: 'ssh',
          args: sshCommandArgs(target, login, session, remoteCommandLine(command, login, node)),
          home: session.folder,
          ...(command.timeoutMs !== undefined ? { timeoutMs: command.timeoutMs } : {}),
        });
        if (result.exitCode === SSH_FAILED) {
          await session.checkHostKeyRefusal(result.lines);
          const said = result.lines
            .map((line) => line.text)
            .join(' ')
            .trim();
          throw ApplicationFailure.retryable(`ssh ${login}@${target.host} failed${said ? `: ${said.slice(-300)}` : ''}`, 'SshUnreachable');
        }
        return result;
      },
    });
  });
}

/**
 * Runs `work` with the commands of the step's node: the agent's own machine,
 * or (on a main worker, for a target the fleet step routed over SSH) the
 * node's SSH connection. A step with neither is refused.
 */
export async function withNodeCommands<Result>(deps: ActionDependencies, context: ActionContext, work: (commands: NodeCommands) => Promise<Result>): Promise<Result> {
  if (deps.node) {
    // An agent acts on its own machine only; it holds no connections to reach another.
    if (context.step.ssh) throw ApplicationFailure.nonRetryable(`node ${deps.node.name}'s agent was asked to reach ${context.step.ssh.node} over SSH`, 'WrongNode');
    return onAgent(deps, context, work);
  }
  if (!context.step.ssh) throw ApplicationFailure.nonRetryable('a node-local action reached a main worker without an SSH route to its node', 'NoNodeRoute');
  return overSsh(deps, context, work);
}
