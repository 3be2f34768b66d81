// `jarvis agent`: the agent a node runs (it talks to the API and Temporal itself).
import type { Command } from 'commander';
import { runAgentUntilStopped } from '../../agent/main.js';
import { temporalTlsOf } from '../../temporal/tls.js';
import type { CliContext } from '../context.js';

export function registerAgentCommand(program: Command, { env }: CliContext): void {
  program
    .command('agent')
    .description("run this machine's Jarvis agent: enroll with a token once, then poll the node's own task queue")
    .option('--api <url>', 'the API', env.apiUrl)
    .option('--token <token>', 'the enrollment token (only the first time; or JARVIS_AGENT_TOKEN)', env.agentToken)
    .option('--data-dir <dir>', 'where the agent keeps its credential', env.agentDataDir)
    .option('--docker-socket <path>', "the node's Docker socket", env.agentDockerSocket)
    .action(async (options: { api: string; token?: string; dataDir: string; dockerSocket: string }) => {
      await runAgentUntilStopped({ apiUrl: options.api, ...(options.token ? { token: options.token } : {}), dataDir: options.dataDir, dockerSocket: options.dockerSocket, ...(env.temporalTls ? { tls: temporalTlsOf(env) } : {}) });
      // Native runtime handles can outlive a clean shutdown; the agent is stopped by now.
      process.exit(0);
    });
}
