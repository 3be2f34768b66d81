// The agent process: `npm run agent` or `npx jarvis agent --api URL --token T`.
// Runs until SIGINT or SIGTERM, then lets running activities finish.
import { loadEnv } from '../config/env.js';
import { temporalTlsOf } from '../temporal/tls.js';
import { startAgent, type AgentOptions } from './agent.js';

export async function runAgentUntilStopped(options: AgentOptions): Promise<void> {
  const agent = await startAgent(options);
  const { node, taskQueue, temporal } = agent.enrollment;
  console.log(`jarvis agent of node ${node.name} (${node.environment}) polling task queue "${taskQueue}" on ${temporal.address}; data in ${options.dataDir}`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void agent.stop());
  await agent.done;
  console.log('jarvis agent stopped');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const env = loadEnv();
  await runAgentUntilStopped({ apiUrl: env.apiUrl, ...(env.agentToken ? { token: env.agentToken } : {}), dataDir: env.agentDataDir, dockerSocket: env.agentDockerSocket, ...(env.temporalTls ? { tls: temporalTlsOf(env) } : {}) });
  // Native runtime handles can outlive a clean shutdown; everything is closed by now.
  process.exit(0);
}
