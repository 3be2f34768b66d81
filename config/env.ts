// The one place that reads the environment. Everything is parsed and checked
// here so a bad setting fails at boot with a message that says what to fix.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parseDuration } from '../manifest/duration.js';
import { parseTrustedProxies } from '../security/trusted-proxies.js';
import type { ArtifactSettings } from '../artifacts/artifact-settings.js';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, context) => {
      const ms = parseDuration(value);
      if (ms === undefined) context.addIssue({ code: 'custom', message: `"${value}" is not a duration (use 30s, 5m, ...)` });
      return ms ?? 0;
    });

const BYTE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

const byteSize = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, context) => {
      const match = /^(\d+)\s*([kmg]?)b?$/i.exec(value.trim());
      if (!match) context.addIssue({ code: 'custom', message: `"${value}" is not a size (use 500m, 2g, or bytes)` });
      return match ? Number(match[1]) * BYTE_UNITS[match[2]!.toLowerCase()]! : 0;
    });

/** A retention as written (90d): kept as text, so it is shown back as the admin would write it. */
const retention = (fallback: string, minimumMs: number) =>
  z
    .string()
    .default(fallback)
    .superRefine((value, context) => {
      const ms = parseDuration(value);
      if (ms === undefined) context.addIssue({ code: 'custom', message: `"${value}" is not a duration (use 90d, 36h, ...)` });
      else if (ms < minimumMs) context.addIssue({ code: 'custom', message: `"${value}" is shorter than ${minimumMs / 3_600_000}h` });
    })
    .transform((value) => value.trim());

const port = (fallback: number) => z.coerce.number().int().min(1).max(65_535).default(fallback);

const envSchema = z.object({
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:]+:\d+$/, 'host:port, e.g. 127.0.0.1:7233')
    .optional()
    .describe('An existing Temporal server; without it Jarvis starts a dev server.'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// connection URL')
    .optional()
    .describe('PostgreSQL with pgvector; without it Jarvis runs the embedded PGlite.'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TLS: z.enum(['true', 'false'], 'true or false').optional().describe('TLS to Temporal with the system roots (implied by any TEMPORAL_TLS_* file).'),
  TEMPORAL_TLS_CA_FILE: z.string().min(1).optional().describe("PEM of the CA that signed Temporal's server certificate."),
  TEMPORAL_TLS_CERT_FILE: z.string().min(1).optional().describe("PEM of this process's client certificate (mTLS); needs TEMPORAL_TLS_KEY_FILE."),
  TEMPORAL_TLS_KEY_FILE: z.string().min(1).optional().describe('PEM of the client certificate\'s key.'),
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional().describe("The name Temporal's certificate is checked against, when not the address's host."),
  JARVIS_TASK_QUEUE: z.string().min(1).default('jarvis-runbooks'),
  JARVIS_DATA_DIR: z.string().min(1).default('./.data'),
  JARVIS_TEMPORAL_PORT: port(7233),
  JARVIS_TEMPORAL_UI_PORT: port(8233),
  JARVIS_TEMPORAL_HTTP_PORT: port(7243),
  JARVIS_WORKER_SHUTDOWN_GRACE: duration('30s'),
  JARVIS_ACTION_USER: z
    .string()
    .regex(/^[a-z_][a-z0-9_-]*\$?$|^\d+$/, 'a user name or uid')
    .optional()
    .describe('The user action processes run as when the worker runs as root (default nobody): it cannot read the secret key nor the worker.'),
  JARVIS_RUNBOOKS_DIR: z.string().optional(),
  JARVIS_PLAYBOOKS_DIR: z.string().optional(),
  JARVIS_USER: z.string().min(1).optional(),
  JARVIS_API_URL: z.url().default('http://127.0.0.1:3001').describe('Where the CLI finds the API.'),
  JARVIS_API_TOKEN: z.string().min(10).optional().describe('An API token for the CLI instead of `jarvis login`.'),
  JARVIS_API_HOST: z.string().min(1).default('127.0.0.1'),
  JARVIS_API_PORT: port(3001),
  JARVIS_WEB_HOST: z.string().min(1).default('127.0.0.1'),
  JARVIS_WEB_PORT: port(3000),
  JARVIS_PUBLIC_API_URL: z.url().optional().describe("The API's address as browsers reach it (live logs); defaults to JARVIS_API_URL."),
  JARVIS_PUBLIC_WEB_URL: z.url().default('http://127.0.0.1:3000').describe('The web app as people reach it: notifications link to its run pages.'),
  JARVIS_NOTIFY_DEADLINE_WINDOW_MINUTES: z.coerce.number().int().min(1).max(10_080).default(15).describe('How long before an approval deadline "approval deadline near" is notified.'),
  JARVIS_TEMPORAL_UI_URL: z.url().optional().describe("Temporal's web UI, linked from run pages; defaults to /temporal, where npm start serves the dev server's UI behind the web app."),
  JARVIS_SECRET_KEY: z
    .string()
    .regex(/^[A-Za-z0-9+/=_-]{43,}$/, 'base64 of 32 random bytes, e.g. `openssl rand -base64 32`')
    .optional()
    .describe('Key for encrypting credentials and signing tokens; without it one is generated into the data directory.'),
  JARVIS_LOGIN_ATTEMPTS_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(10).describe('Sign-in attempts a client address may make per minute.'),
  JARVIS_TRUSTED_PROXIES: z
    .string()
    .default('127.0.0.1,::1')
    .transform((value, context) => {
      try {
        return parseTrustedProxies(value);
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message });
        return [];
      }
    })
    .describe('Comma-separated addresses or CIDR ranges of proxies whose X-Forwarded-* headers are believed (the web server, Traefik).'),
  JARVIS_GIT_ALLOW_FILE_URLS: z
    .enum(['true', 'false'], 'true or false')
    .default('false')
    .transform((value) => value === 'true')
    .describe('Whether git connections may name local repositories (file:// or a path) besides https and ssh: for tests, never in production.'),
  JARVIS_ADMIN_EMAIL: z.email().optional(),
  JARVIS_ADMIN_PASSWORD: z.string().min(12, 'at least 12 characters').optional(),
  JARVIS_CORS_ORIGINS: z.string().default('http://127.0.0.1:3000,http://localhost:3000,http://127.0.0.1:8233,http://localhost:8233'),
  JARVIS_ACCESS_TOKEN_TTL: duration('15m'),
  JARVIS_REFRESH_TOKEN_TTL: duration('30d'),
  JARVIS_API_TOKEN_MAX_TTL: duration('90d').describe('The longest an API token may live; a token asked for without an expiry gets this one.'),
  OPENAI_BASE_URL: z.url().optional().describe('An OpenAI-compatible API (OpenAI, Azure OpenAI, a local server); OpenAI itself when only a key is set.'),
  OPENAI_API_KEY: z.string().min(1).optional().describe('Key for the model API; never logged or shown in errors.'),
  JARVIS_AI_CHAT_MODEL: z.string().min(1).optional().describe('Chat model for diagnosis and plans; AI answers are off without it (and a key or base URL).'),
  JARVIS_AI_EMBEDDING_MODEL: z
    .string()
    .min(1)
    .optional()
    .describe('Embedding model, asked for 384 dimensions; without it the knowledge base uses the offline lexical embedder.'),
  JARVIS_AI_TIMEOUT: duration('60s').describe('How long one model request may take before it is abandoned (and retried).'),
  JARVIS_AI_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(3).describe('Retries of a model request after a rate limit, server error or timeout.'),
  JARVIS_NODE_HEALTH_INTERVAL: duration('1m').describe('How often the jarvis-node-health schedule checks every node with an agent.'),
  JARVIS_NODE_HEALTH_PICKUP_TIMEOUT: duration('20s').describe('How long an agent has to pick up its health check before its node is marked unreachable.'),
  JARVIS_RETENTION_RUNS: retention('90d', 86_400_000).describe("How long an environment keeps its runs (rows and Temporal history) unless its admins set otherwise; Temporal's minimum is 1d."),
  JARVIS_RETENTION_LOGS: retention('30d', 3_600_000).describe("How long an environment keeps its runs' log lines unless its admins set otherwise."),
  JARVIS_RETENTION_ARTIFACTS: retention('30d', 3_600_000).describe("How long an environment keeps its runs' artifacts unless its admins set otherwise."),
  JARVIS_RETENTION_PURGE_INTERVAL: duration('1d').describe('How often the jarvis-retention-purge schedule purges run history past its retention.'),
  JARVIS_NODE_ENROLLMENT_TTL: duration('1h').describe('How long a node enrollment token stays usable.'),
  JARVIS_AGENT_TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:]+:\d+$/, 'host:port, e.g. temporal.example.org:7233')
    .optional()
    .describe("Temporal's address as agents on nodes reach it; defaults to the API's own."),
  JARVIS_AGENT_TOKEN: z.string().min(10).optional().describe('The agent: its enrollment token (used once; the agent then keeps a credential in its data directory).'),
  JARVIS_AGENT_DATA_DIR: z.string().min(1).optional().describe("The agent's data directory (its credential); defaults to <data dir>/agent."),
  JARVIS_AGENT_DOCKER_SOCKET: z.string().min(1).default('/var/run/docker.sock').describe("The agent: the node's Docker socket for profile and container actions."),
  JARVIS_TEST_DOCKER_SOCKET: z.string().default('/run/jarvis-docker.sock').describe('The Docker engine the test suite uses (.ci/start-docker.sh starts it).'),
  JARVIS_TEST_DATABASE_URL: z.string().default('postgresql://postgres@127.0.0.1:5432/test').describe('The PostgreSQL the test suite backs up.'),
  JARVIS_ARTIFACTS_BACKEND: z.enum(['local', 's3'], 'local or s3').default('local').describe('Where run artifacts are stored: under the data directory, or an S3-compatible bucket.'),
  JARVIS_ARTIFACTS_MAX_FILE_SIZE: byteSize('1g').describe('The largest one artifact may be (bytes, or with k, m, g).'),
  JARVIS_ARTIFACTS_MAX_STEP_SIZE: byteSize('2g').describe('The most one step may publish in all (bytes, or with k, m, g).'),
  JARVIS_ARTIFACTS_S3_ENDPOINT: z.url().optional().describe('An S3-compatible endpoint (AWS S3 itself when absent).'),
  JARVIS_ARTIFACTS_S3_REGION: z.string().min(1).default('us-east-1'),
  JARVIS_ARTIFACTS_S3_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name').optional(),
  JARVIS_ARTIFACTS_S3_PREFIX: z.string().regex(/^([A-Za-z0-9._-]+\/)*$/, 'empty or folder names each ending with /').default('jarvis-artifacts/'),
  JARVIS_ARTIFACTS_S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  JARVIS_ARTIFACTS_S3_SECRET_ACCESS_KEY: z.string().min(1).optional().describe('Never logged or shown in errors.'),
  JARVIS_ARTIFACTS_S3_FORCE_PATH_STYLE: z.enum(['true', 'false'], 'true or false').default('false').transform((value) => value === 'true'),
  HOME: z.string().optional(),
  PATH: z.string().default('/usr/local/bin:/usr/bin:/bin'),
});

export type JarvisEnv = ReturnType<typeof parseEnv>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function parseEnv(source: Record<string, string | undefined>) {
  const result = envSchema.safeParse(source);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`).join('\n');
    throw new ConfigError(`Invalid configuration:\n${problems}`);
  }
  const env = result.data;
  if (Boolean(env.TEMPORAL_TLS_CERT_FILE) !== Boolean(env.TEMPORAL_TLS_KEY_FILE)) {
    throw new ConfigError('Invalid configuration:\n  TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE go together (a client certificate and its key)');
  }
  const temporalTlsWanted = env.TEMPORAL_TLS === 'true' || Boolean(env.TEMPORAL_TLS_CA_FILE || env.TEMPORAL_TLS_CERT_FILE || env.TEMPORAL_TLS_SERVER_NAME);
  const dataDir = path.resolve(env.JARVIS_DATA_DIR);
  if (env.JARVIS_ARTIFACTS_BACKEND === 's3' && !(env.JARVIS_ARTIFACTS_S3_BUCKET && env.JARVIS_ARTIFACTS_S3_ACCESS_KEY_ID && env.JARVIS_ARTIFACTS_S3_SECRET_ACCESS_KEY)) {
    throw new ConfigError('Invalid configuration:\n  JARVIS_ARTIFACTS_BACKEND=s3 needs JARVIS_ARTIFACTS_S3_BUCKET, JARVIS_ARTIFACTS_S3_ACCESS_KEY_ID and JARVIS_ARTIFACTS_S3_SECRET_ACCESS_KEY');
  }
  return {
    temporalAddress: env.TEMPORAL_ADDRESS,
    databaseUrl: env.DATABASE_URL,
    namespace: env.TEMPORAL_NAMESPACE,
    temporalTls: temporalTlsWanted
      ? {
          ...(env.TEMPORAL_TLS_CA_FILE ? { caFile: path.resolve(env.TEMPORAL_TLS_CA_FILE) } : {}),
          ...(env.TEMPORAL_TLS_CERT_FILE ? { certFile: path.resolve(env.TEMPORAL_TLS_CERT_FILE) } : {}),
          ...(env.TEMPORAL_TLS_KEY_FILE ? { keyFile: path.resolve(env.TEMPORAL_TLS_KEY_FILE) } : {}),
          ...(env.TEMPORAL_TLS_SERVER_NAME ? { serverName: env.TEMPORAL_TLS_SERVER_NAME } : {}),
        }
      : undefined,
    taskQueue: env.JARVIS_TASK_QUEUE,
    dataDir,
    temporalPort: env.JARVIS_TEMPORAL_PORT,
    temporalUiPort: env.JARVIS_TEMPORAL_UI_PORT,
    temporalHttpPort: env.JARVIS_TEMPORAL_HTTP_PORT,
    workerShutdownGraceMs: env.JARVIS_WORKER_SHUTDOWN_GRACE,
    actionUser: env.JARVIS_ACTION_USER,
    runbooksDir: path.resolve(env.JARVIS_RUNBOOKS_DIR ?? path.join(PROJECT_ROOT, 'runbooks')),
    playbooksDir: path.resolve(env.JARVIS_PLAYBOOKS_DIR ?? path.join(PROJECT_ROOT, 'runbooks', 'playbooks')),
    actingUser: env.JARVIS_USER,
    apiUrl: env.JARVIS_API_URL.replace(/\/$/, ''),
    apiToken: env.JARVIS_API_TOKEN,
    apiHost: env.JARVIS_API_HOST,
    apiPort: env.JARVIS_API_PORT,
    webHost: env.JARVIS_WEB_HOST,
    webPort: env.JARVIS_WEB_PORT,
    publicApiUrl: (env.JARVIS_PUBLIC_API_URL ?? env.JARVIS_API_URL).replace(/\/$/, ''),
    publicWebUrl: env.JARVIS_PUBLIC_WEB_URL.replace(/\/$/, ''),
    approvalDeadlineWindowMs: env.JARVIS_NOTIFY_DEADLINE_WINDOW_MINUTES * 60_000,
    // `npm start` serves the dev server's UI under the web app's /temporal: a link on the page's own origin.
    temporalUiUrl: (env.JARVIS_TEMPORAL_UI_URL ?? '/temporal').replace(/\/$/, ''),
    secretKey: env.JARVIS_SECRET_KEY,
    bootstrapAdmin: env.JARVIS_ADMIN_EMAIL && env.JARVIS_ADMIN_PASSWORD ? { email: env.JARVIS_ADMIN_EMAIL, password: env.JARVIS_ADMIN_PASSWORD } : undefined,
    loginAttemptsPerMinute: env.JARVIS_LOGIN_ATTEMPTS_PER_MINUTE,
    gitAllowFileUrls: env.JARVIS_GIT_ALLOW_FILE_URLS,
    trustedProxies: env.JARVIS_TRUSTED_PROXIES,
    corsOrigins: env.JARVIS_CORS_ORIGINS.split(',').map((origin) => origin.trim()).filter(Boolean),
    accessTokenTtlMs: env.JARVIS_ACCESS_TOKEN_TTL,
    refreshTokenTtlMs: env.JARVIS_REFRESH_TOKEN_TTL,
    apiTokenMaxTtlMs: env.JARVIS_API_TOKEN_MAX_TTL,
    ai: {
      baseUrl: env.OPENAI_BASE_URL?.replace(/\/$/, ''),
      apiKey: env.OPENAI_API_KEY,
      chatModel: env.JARVIS_AI_CHAT_MODEL,
      embeddingModel: env.JARVIS_AI_EMBEDDING_MODEL,
      timeoutMs: env.JARVIS_AI_TIMEOUT,
      maxRetries: env.JARVIS_AI_MAX_RETRIES,
    },
    nodeHealthIntervalMs: env.JARVIS_NODE_HEALTH_INTERVAL,
    nodeHealthPickupTimeoutMs: env.JARVIS_NODE_HEALTH_PICKUP_TIMEOUT,
    enrollmentTokenTtlMs: env.JARVIS_NODE_ENROLLMENT_TTL,
    retention: {
      defaults: { runs: env.JARVIS_RETENTION_RUNS, logs: env.JARVIS_RETENTION_LOGS, artifacts: env.JARVIS_RETENTION_ARTIFACTS },
      purgeIntervalMs: env.JARVIS_RETENTION_PURGE_INTERVAL,
    },
    agentTemporalAddress: env.JARVIS_AGENT_TEMPORAL_ADDRESS,
    agentToken: env.JARVIS_AGENT_TOKEN,
    agentDataDir: path.resolve(env.JARVIS_AGENT_DATA_DIR ?? path.join(dataDir, 'agent')),
    agentDockerSocket: env.JARVIS_AGENT_DOCKER_SOCKET,
    testDatabaseUrl: env.JARVIS_TEST_DATABASE_URL,
    testDockerSocket: env.JARVIS_TEST_DOCKER_SOCKET,
    artifacts: artifactSettingsOf(env, dataDir),
    cacheBinDir: path.join(env.HOME ?? PROJECT_ROOT, '.cache', 'jarvis', 'bin'),
    searchPath: env.PATH,
  };
}

function artifactSettingsOf(env: z.output<typeof envSchema>, dataDir: string): ArtifactSettings {
  const limits = { maxFileBytes: env.JARVIS_ARTIFACTS_MAX_FILE_SIZE, maxStepBytes: env.JARVIS_ARTIFACTS_MAX_STEP_SIZE };
  if (env.JARVIS_ARTIFACTS_BACKEND === 'local') return { backend: 'local', directory: path.join(dataDir, 'artifacts'), limits };
  return {
    backend: 's3',
    limits,
    s3: {
      ...(env.JARVIS_ARTIFACTS_S3_ENDPOINT ? { endpoint: env.JARVIS_ARTIFACTS_S3_ENDPOINT } : {}),
      region: env.JARVIS_ARTIFACTS_S3_REGION,
      bucket: env.JARVIS_ARTIFACTS_S3_BUCKET!,
      prefix: env.JARVIS_ARTIFACTS_S3_PREFIX,
      accessKeyId: env.JARVIS_ARTIFACTS_S3_ACCESS_KEY_ID!,
      secretAccessKey: env.JARVIS_ARTIFACTS_S3_SECRET_ACCESS_KEY!,
      forcePathStyle: env.JARVIS_ARTIFACTS_S3_FORCE_PATH_STYLE,
    },
  };
}

export function loadEnv(): JarvisEnv {
  return parseEnv(process.env);
}
