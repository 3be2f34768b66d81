// The composition root of the control plane: builds every service from the
// configuration, for the API process, `npm start` and the tests alike.
import type { Client, Connection } from '@temporalio/client';
import type { JarvisEnv } from '../config/env.js';
import type { Database } from '../db/database.js';
import { RunbookCatalog } from '../manifest/catalog.js';
import { RunService } from '../runs/run-service.js';
import { GitSyncService } from './services/git-sync-service.js';
import { RunSummaryStore } from '../runs/run-summary-store.js';
import { CredentialsCipher } from '../security/credentials-cipher.js';
import { SecretKey } from '../security/secret-key.js';
import { EncryptionCodec } from '../temporal/payload-codec.js';
import { AccessTokens, LogTickets } from '../security/tokens.js';
import { RunLogListener } from '../logs/run-log-listener.js';
import { RunLogStore } from '../logs/run-log-store.js';
import { NodeStore } from '../infra/node-store.js';
import pg from 'pg';
import { reportIdleConnectionError } from '../db/pool-errors.js';
import type { ApiDependencies } from './app.js';
import { AuditService } from './services/audit-service.js';
import { AuthService } from './services/auth-service.js';
import { ConnectionService } from './services/connection-service.js';
import { RunbookVersionService } from './services/runbook-version-service.js';
import { UserService } from './services/user-service.js';

export type ControlPlaneConfig = Pick<JarvisEnv, 'dataDir' | 'secretKey' | 'runbooksDir' | 'taskQueue' | 'accessTokenTtlMs' | 'refreshTokenTtlMs'> &
  Partial<Pick<JarvisEnv, 'agentTemporalAddress' | 'enrollmentTokenTtlMs'>>;

const ENROLLMENT_TTL_MS = 60 * 60_000;

export async function createControlPlane(
  config: ControlPlaneConfig,
  database: { prisma: Database; url: string },
  temporal: Client,
): Promise<ApiDependencies & { close(): Promise<void> }> {
  const db = database.prisma;
  const secret = SecretKey.load(config.secretKey, config.dataDir);
  const catalog = await RunbookCatalog.fromDirectory(config.runbooksDir);
  const runbookVersions = new RunbookVersionService(db, catalog);
  await runbookVersions.loadActive();
  const credentials = new CredentialsCipher([secret.derive('credentials')]);
  const connections = new ConnectionService(db, credentials);
  const pool = new pg.Pool({ connectionString: database.url, max: 8 });
  pool.on('error', reportIdleConnectionError);
  const logListener = new RunLogListener(database.url);
  await logListener.start();
  return {
    db,
    temporal,
    catalog,
    runs: new RunService(temporal, catalog, config.taskQueue, new RunSummaryStore(pool)),
    auth: new AuthService(db, new AccessTokens(secret.derive('access-tokens'), config.accessTokenTtlMs), config.refreshTokenTtlMs, credentials),
    audit: new AuditService(db),
    users: new UserService(db),
    runbookVersions,
    connections,
    git: new GitSyncService(connections, runbookVersions, catalog, config.dataDir),
    payloadCodec: new EncryptionCodec(secret.derive('workflow-payloads')),
    logStore: new RunLogStore(pool),
    logListener,
    logTickets: new LogTickets(secret.derive('log-tickets')),
    nodes: new NodeStore(pool),
    agents: {
      // Agents are told the address they can reach, which may differ from the one the API uses.
      temporalAddress: config.agentTemporalAddress ?? (temporal.connection as Connection).options.address,
      namespace: temporal.options.namespace,
      // The same derivation as createDataConverter: agents decrypt their activities' payloads and nothing else.
      codecKey: secret.derive('workflow-payloads'),
      enrollmentTtlMs: config.enrollmentTokenTtlMs ?? ENROLLMENT_TTL_MS,
    },
    async close() {
      await logListener.stop();
      await pool.end();
    },
  };
}
