// The Jarvis agent: a Temporal worker a node runs. It trades its one-time
// enrollment token at the API for what it needs (Temporal's address, its own
// task queue, the payload codec key and a long-lived credential kept in its
// data directory), then polls only its own queue with node-local activities.
// The control plane never connects to the node.
import { NativeConnection, Worker, type TLSConfig } from '@temporalio/worker';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { LineSink } from '../activities/action.js';
import { createActivities, createConsoleLineSink } from '../activities/index.js';
import { EncryptionCodec } from '../temporal/payload-codec.js';
import { AgentKeyRing } from '../temporal/payload-keys.js';

/** What POST /agents/enroll answers. */
export const agentEnrollmentSchema = z.object({
  node: z.object({ id: z.string(), name: z.string(), environment: z.string() }),
  temporal: z.object({ address: z.string(), namespace: z.string() }),
  taskQueue: z.string(),
  /** The workflow-payload key of the node's environment (base64), derived from the installation's secret; never the secret itself. */
  codecKey: z.string(),
  /** Its generation (absent from agents enrolled before keys rotated). */
  codecKeyGeneration: z.number().int().min(0).optional(),
  /** Only in the answer to an enrollment token: the credential that replaces it from then on. */
  credential: z.string().optional(),
});
export type AgentEnrollment = z.infer<typeof agentEnrollmentSchema>;

const agentStateSchema = z.object({ apiUrl: z.string(), credential: z.string(), enrollment: agentEnrollmentSchema.omit({ credential: true }) });
type AgentState = z.infer<typeof agentStateSchema>;

export const AGENT_STATE_FILE = 'agent.json';

export class AgentError extends Error {
  override name = 'AgentError';
}

export interface AgentOptions {
  apiUrl: string;
  /** An enrollment token; without one, the credential saved in dataDir is used. */
  token?: string;
  dataDir: string;
  dockerSocket: string;
  lineSink?: LineSink;
  shutdownGraceMs?: number;
  /** TLS or mTLS to Temporal, from the agent host's TEMPORAL_TLS_* settings. */
  tls?: TLSConfig;
}

async function askApi(apiUrl: string, bearer: string): Promise<AgentEnrollment> {
  let response: Response;
  try {
    response = await fetch(`${apiUrl}/agents/enroll`, { method: 'POST', headers: { authorization: `Bearer ${bearer}` } });
  } catch (error) {
    throw new AgentError(`cannot reach the API at ${apiUrl}: ${(error as Error).message}`);
  }
  const body = (await response.json().catch(() => ({}))) as { detail?: string };
  if (!response.ok) throw new AgentError(`the API refused the agent (${response.status}): ${body.detail ?? 'no detail'}`);
  return agentEnrollmentSchema.parse(body);
}

function saveState(file: string, state: AgentState): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  // writeFileSync keeps an existing file's mode: make sure it is owner-only.
  chmodSync(file, 0o600);
}

/**
 * The agent's configuration: with a token, a new enrollment (its credential
 * saved 0600); without one, the saved credential refreshes it (or, when the
 * API cannot be reached, the saved configuration is used as it is).
 */
export async function enrollAgent(options: Pick<AgentOptions, 'apiUrl' | 'token' | 'dataDir'>): Promise<AgentState> {
  const file = path.join(options.dataDir, AGENT_STATE_FILE);
  const apiUrl = options.apiUrl.replace(/\/$/, '');
  if (options.token) {
    const answer = await askApi(apiUrl, options.token);
    if (!answer.credential) throw new AgentError('the API answered the enrollment without a credential');
    const { credential, ...enrollment } = answer;
    const state = { apiUrl, credential, enrollment };
    saveState(file, state);
    return state;
  }
  if (!existsSync(file)) throw new AgentError(`no enrollment token and no saved credential in ${options.dataDir}: enroll the node (npx jarvis nodes enroll NAME --environment ENV) and pass its token`);
  const saved = agentStateSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  try {
    const { credential: _none, ...enrollment } = await askApi(saved.apiUrl, saved.credential);
    const state = { ...saved, enrollment };
    saveState(file, state);
    return state;
  } catch (error) {
    // A refusal (the node was deleted) is final; an unreachable API is not a reason to stop working.
    if (error instanceof AgentError && error.message.startsWith('cannot reach')) return saved;
    throw error;
  }
}

export interface RunningAgent {
  enrollment: AgentState['enrollment'];
  worker: Worker;
  /** Resolves when the worker has stopped. */
  done: Promise<void>;
  stop(): Promise<void>;
}

/**
 * The agent's payload keys: its environment's, as enrolled; a payload of a
 * newer generation (the key rotated when another node was removed) makes it
 * ask the API again with its credential, and save what it is told.
 */
export function agentKeyRing(state: AgentState, dataDir: string): AgentKeyRing {
  const keyOf = (enrollment: AgentState['enrollment']) => ({
    environment: enrollment.node.environment,
    key: Buffer.from(enrollment.codecKey, 'base64'),
    ...(enrollment.codecKeyGeneration !== undefined ? { generation: enrollment.codecKeyGeneration } : {}),
  });
  return new AgentKeyRing(keyOf(state.enrollment), async () => {
    const { credential: _none, ...enrollment } = await askApi(state.apiUrl, state.credential);
    saveState(path.join(dataDir, AGENT_STATE_FILE), { ...state, enrollment });
    return keyOf(enrollment);
  });
}

export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const state = await enrollAgent(options);
  const { enrollment } = state;
  const connection = await NativeConnection.connect({ address: enrollment.temporal.address, ...(options.tls ? { tls: options.tls } : {}) });
  const worker = await Worker.create({
    connection,
    namespace: enrollment.temporal.namespace,
    taskQueue: enrollment.taskQueue,
    // Activities only: workflows run on the installation's workers, never on a node.
    activities: createActivities(
      { lineSink: options.lineSink ?? createConsoleLineSink(), playbooksDir: '', dockerSocket: options.dockerSocket, node: { name: enrollment.node.name, environment: enrollment.node.environment } },
      'node',
    ),
    // Its environment's payload key only: it reads and writes the payloads of its own environment's runs.
    dataConverter: { payloadCodecs: [new EncryptionCodec(agentKeyRing(state, options.dataDir))] },
    shutdownGraceTime: options.shutdownGraceMs ?? 10_000,
    // Two long polls, not the SDK's default of up to ten: Temporal's frontend takes 1,200 concurrent polls per namespace
    // by default (frontend.namespaceCount), so a thousand agents at ten each would be refused (bench:fleet measured it).
    activityTaskPollerBehavior: { type: 'simple-maximum', maximum: 2 },
  });
  const done = worker.run().finally(() => connection.close());
  return {
    enrollment,
    worker,
    done,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}
