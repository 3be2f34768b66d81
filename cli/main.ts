// The `jarvis` command: global setup, one module per noun under commands/, and
// the exit code each kind of problem maps to. Run commands go through the API
// when there is a session, else straight to Temporal with `--as` naming the
// acting user.
import { Command } from 'commander';
import { loadEnv } from '../config/env.js';
import { JarvisProblem } from '../manifest/errors.js';
import { registerAgentCommand } from './commands/agent.js';
import { registerAiCommands } from './commands/ai.js';
import { registerContainerCommands } from './commands/containers.js';
import { registerLoginCommands } from './commands/login.js';
import { registerNetworkCommands } from './commands/network.js';
import { registerNodeCommands } from './commands/nodes.js';
import { registerReportCommands } from './commands/reports.js';
import { registerRetentionCommands } from './commands/retention.js';
import { registerCooperativeCommands } from './commands/cooperative.js';
import { registerRunbookCommands } from './commands/runbooks.js';
import { registerRunCommands } from './commands/runs.js';
import { registerScheduleCommands } from './commands/schedules.js';
import { registerStackCommands } from './commands/stacks.js';
import { registerTriggerCommands } from './commands/triggers.js';
import { registerUserCommands } from './commands/users.js';
import { createCliContext } from './context.js';
import { CommandFailed } from './watch.js';

const context = createCliContext(loadEnv());

const program = new Command('jarvis').description('Jarvis operations control plane').showHelpAfterError();
// The order here is the order of `jarvis --help`.
for (const register of [
  registerRunbookCommands,
  registerRunCommands,
  registerReportCommands,
  registerScheduleCommands,
  registerUserCommands,
  registerRetentionCommands,
  registerContainerCommands,
  registerNodeCommands,
  registerNetworkCommands,
  registerAgentCommand,
  registerAiCommands,
  registerStackCommands,
  registerTriggerCommands,
  registerCooperativeCommands,
  registerLoginCommands,
]) {
  register(program, context);
}

const EXIT_CODES = { invalid: 2, 'not-found': 3, conflict: 4, forbidden: 5, unavailable: 6 } as const;

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof JarvisProblem) {
    console.error(`error: ${error.message}`);
    process.exitCode = EXIT_CODES[error.kind];
  } else if (error instanceof CommandFailed) {
    process.exitCode = 1;
  } else {
    // The SDK wraps the useful part (e.g. "encrypted with key X, which is not configured") in a cause.
    const cause = (error as Error).cause instanceof Error ? `: ${((error as Error).cause as Error).message}` : '';
    console.error(`error: ${(error as Error).message}${cause}`);
    process.exitCode = 1;
  }
} finally {
  await context.close();
}
