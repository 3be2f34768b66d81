// What a worker writes to the installation's database: run log lines and the
// run-summary projection. Without a database, lines go to the worker's output
// and no projection is kept (readers then ask Temporal).
import pg from 'pg';
import type { LineSink } from '../activities/action.js';
import { createConsoleLineSink } from '../activities/index.js';
import { reportIdleConnectionError } from '../db/pool-errors.js';
import { DatabaseLineSink } from '../logs/database-line-sink.js';
import { RunLogStore } from '../logs/run-log-store.js';
import type { JarvisEnv } from '../config/env.js';
import { NodeStore } from '../infra/node-store.js';
import { EgressAllowlistStore } from '../infra/egress-allowlist-store.js';
import type { EgressAllowlistSource } from '../activities/http/egress-policy.js';
import { createEmbedder } from '../ai/embedder.js';
import type { AiSettings } from '../ai/model-provider.js';
import type { KnowledgeDependencies } from '../ai/knowledge-activities.js';
import { KnowledgeStore } from '../ai/knowledge-store.js';
import { PlanStore } from '../ai/plan-store.js';
import { RunSummaryStore } from '../runs/run-summary-store.js';
import { DatabaseConnectionResolver, type ConnectionResolver } from '../security/connection-resolver.js';
import { CredentialsCipher } from '../security/credentials-cipher.js';
import { SecretKey } from '../security/secret-key.js';
import { SqlAuditLog } from '../security/sql-audit-log.js';
import { PayloadKeyGenerations } from '../security/payload-key-generations.js';
import type { KeyGenerationSource } from './payload-keys.js';
import type { RefusalAudit } from '../runs/run-authorization-activities.js';
import { NotificationStore } from '../notifications/notification-store.js';
import { defaultArtifactSettings, openRunArtifacts } from '../artifacts/open-artifact-store.js';
import type { RunArtifacts } from '../artifacts/run-artifacts.js';
import type { NotificationDeliveryDependencies } from '../notifications/notification-activities.js';
import type { CooperativeActivityDependencies } from '../cooperative/ledger-activities.js';
import { Ledger } from '../cooperative/ledger.js';
import { transferAuthorityOf } from '../cooperative/transfer-authority.js';

const DEFAULT_PUBLIC_WEB_URL = 'http://127.0.0.1:3000';

export interface WorkerStores {
  lineSink: LineSink;
  runSummaries?: RunSummaryStore;
  connections?: ConnectionResolver;
  nodes?: NodeStore;
  /** The AI Ops knowledge base: failed runs and plan outcomes are ingested into it. */
  knowledge?: Omit<KnowledgeDependencies, 'lineSink'>;
  /** Each environment's egress allowlist (http and notify actions). */
  egress?: EgressAllowlistSource;
  /** Where refusals of what reached the worker through Temporal alone are audited. */
  audit?: RefusalAudit;
  /** The current generation of each environment's payload key: node activities are written with the key agents hold. */
  keyGenerations?: KeyGenerationSource;
  /** Notification deliveries: events, channels and the delivery log. */
  notifications?: Omit<NotificationDeliveryDependencies, 'egress'>;
  /** Where steps publish artifacts (dumps, recaps, files of shell.run). */
  artifacts?: RunArtifacts;
  /** The cooperative's ledger and the key its transfers are signed with. */
  cooperative?: CooperativeActivityDependencies;
  close(): Promise<void>;
}

/** The worker options a set of stores provides (the line sink, and what exists only with a database). */
export function workerStoreOptions(stores: Omit<WorkerStores, 'close'>) {
  return {
    lineSink: stores.lineSink,
    ...(stores.runSummaries ? { runSummaries: stores.runSummaries } : {}),
    ...(stores.connections ? { connections: stores.connections } : {}),
    ...(stores.nodes ? { nodes: stores.nodes } : {}),
    ...(stores.knowledge ? { knowledge: stores.knowledge } : {}),
    ...(stores.egress ? { egress: stores.egress } : {}),
    ...(stores.audit ? { audit: stores.audit } : {}),
    ...(stores.notifications ? { notifications: stores.notifications } : {}),
    ...(stores.artifacts ? { artifacts: stores.artifacts } : {}),
    ...(stores.cooperative ? { cooperative: stores.cooperative } : {}),
  };
}

/** `ai` picks the embedder; it must be the API's, or searches would not find what the worker ingested. */
export function openWorkerStores(databaseUrl: string | undefined, keys: Pick<JarvisEnv, 'secretKey' | 'dataDir'> & Partial<Pick<JarvisEnv, 'publicWebUrl' | 'artifacts'>> & { ai?: AiSettings }): WorkerStores {
  if (!databaseUrl) return { lineSink: createConsoleLineSink(), close: async () => {} };
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  pool.on('error', reportIdleConnectionError);
  const logs = new RunLogStore(pool);
  const lineSink = new DatabaseLineSink(logs);
  const embedder = createEmbedder(keys.ai ?? { timeoutMs: 60_000, maxRetries: 3 });
  const artifacts = openRunArtifacts(pool, keys.artifacts ?? defaultArtifactSettings(keys.dataDir));
  const connections = new DatabaseConnectionResolver(pool, new CredentialsCipher([SecretKey.load(keys.secretKey, keys.dataDir).derive('credentials')]));
  return {
    lineSink,
    knowledge: { logs, knowledge: new KnowledgeStore(pool, embedder), plans: new PlanStore(pool) },
    runSummaries: new RunSummaryStore(pool),
    nodes: new NodeStore(pool),
    egress: new EgressAllowlistStore(pool),
    audit: new SqlAuditLog(pool),
    keyGenerations: new PayloadKeyGenerations(pool),
    connections,
    artifacts,
    notifications: { store: new NotificationStore(pool), connections, publicWebUrl: keys.publicWebUrl ?? DEFAULT_PUBLIC_WEB_URL },
    cooperative: { ledger: new Ledger(pool), authority: transferAuthorityOf(keys), audit: new SqlAuditLog(pool) },
    async close() {
      // Lines the database still did not take are reported, not a reason to leave the pool open.
      await lineSink.flush().catch((error: unknown) => console.error('log lines left unstored at shutdown', error));
      artifacts.store.close?.();
      await pool.end();
    },
  };
}
