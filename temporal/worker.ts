import { NativeConnection, Worker, bundleWorkflowCode, type TLSConfig, type WorkerInterceptors, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import path from 'node:path';
import { PROJECT_ROOT, type JarvisEnv } from '../config/env.js';
import type { DataConverter } from '@temporalio/common';
import type { ActionDependencies } from '../activities/action.js';
import type { EgressAllowlistSource } from '../activities/http/egress-policy.js';
import { createActivities, createConsoleLineSink } from '../activities/index.js';
import { resolveActionProcessPolicy, type ActionProcessPolicy } from '../activities/shell/action-sandbox.js';
import { ProcessLedger } from '../activities/shell/process-ledger.js';
import { createKnowledgeActivities, type KnowledgeDependencies } from '../ai/knowledge-activities.js';
import { createNodeHealthActivities } from '../activities/nodes/health-check-activities.js';
import { actionCatalog } from '../activities/catalog.js';
import { createFleetTargetActivities } from '../activities/fleet/fleet-target-activities.js';
import type { NodeStore } from '../infra/node-store.js';
import type { RunArtifacts } from '../artifacts/run-artifacts.js';
import { createRunSummaryActivities } from '../runs/run-summary-activity.js';
import { createNotificationActivities, type NotificationDeliveryDependencies } from '../notifications/notification-activities.js';
import { createRunAuthorizationActivities, type RefusalAudit } from '../runs/run-authorization-activities.js';
import { runAuthorityOf, type RunAuthority } from '../security/run-authority.js';
import type { RunSummaryStore } from '../runs/run-summary-store.js';
import type { ConnectionResolver } from '../security/connection-resolver.js';
import { createDataConverter } from './payload-codec.js';
import { createCooperativeActivities, type CooperativeActivityDependencies } from '../cooperative/ledger-activities.js';
import { temporalTlsOf } from './tls.js';
import { workerStoreOptions, type WorkerStores } from './worker-stores.js';

export const WORKFLOWS_PATH = path.join(PROJECT_ROOT, 'workflows', 'index.ts');

/** Bundles the workflow code once per process; every worker of the process shares the bundle. */
export async function bundleWorkflows(workflowsPath = WORKFLOWS_PATH): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath, logger: quietBundlerLogger });
}

const quietBundlerLogger = {
  trace() {},
  debug() {},
  info() {},
  log() {},
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};

export interface RunbookWorkerOptions {
  address: string;
  /** TLS or mTLS to Temporal (temporal/tls.ts). */
  tls?: TLSConfig;
  namespace: string;
  taskQueue: string;
  workflowBundle: WorkflowBundleWithSourceMap | { codePath: string };
  shutdownGraceMs: number;
  playbooksDir: string;
  lineSink?: ActionDependencies['lineSink'];
  /** Where runs publish their progress for fast reads; none without a database. */
  runSummaries?: RunSummaryStore;
  /** Connections of each run's environment, for actions that reach systems by connection name. */
  connections?: ConnectionResolver;
  /** The node inventory, for node.register and the node health check. */
  nodes?: NodeStore;
  /** The AI Ops knowledge base, for ingesting failed runs and plan outcomes; none without a database. */
  knowledge?: Omit<KnowledgeDependencies, 'lineSink'>;
  /** Each environment's egress allowlist, for http and notify actions; without it they reach public addresses only. */
  egress?: EgressAllowlistSource;
  /** Encrypts payloads: the same converter as every client of the installation. */
  dataConverter: DataConverter;
  /** Which user action processes run as, with which PATH. */
  processes?: ActionProcessPolicy;
  /** Checks that runs and decisions come from the API (the installation's run-authorization key). */
  authority: RunAuthority;
  /** Where refused starts and decisions are audited; none without a database. */
  audit?: RefusalAudit;
  /** What notification deliveries read and write (events, channels, the delivery log); none without a database. */
  notifications?: Omit<NotificationDeliveryDependencies, 'egress'>;
  /** Where steps publish artifacts; none without a database. */
  artifacts?: RunArtifacts;
  /** The cooperative's ledger, for credit transfers; none without a database. */
  cooperative?: CooperativeActivityDependencies;
  /** Benchmarks observe activities through interceptors. */
  interceptors?: WorkerInterceptors;
}

export async function createRunbookWorker(options: RunbookWorkerOptions): Promise<{ worker: Worker; connection: NativeConnection }> {
  const connection = await NativeConnection.connect({ address: options.address, ...(options.tls ? { tls: options.tls } : {}) });
  const activities = {
    ...createActivities({
      lineSink: options.lineSink ?? createConsoleLineSink(),
      playbooksDir: options.playbooksDir,
      ...(options.processes ? { processes: options.processes } : {}),
      ...(options.connections ? { connections: options.connections } : {}),
      ...(options.nodes ? { nodes: options.nodes } : {}),
      ...(options.egress ? { egress: options.egress } : {}),
      ...(options.artifacts ? { artifacts: options.artifacts } : {}),
    }),
    ...createRunSummaryActivities(options.runSummaries),
    ...createRunAuthorizationActivities(options.authority, options.audit),
    ...createNodeHealthActivities(options.nodes),
    ...createFleetTargetActivities(options.nodes, actionCatalog),
    ...createNotificationActivities(options.notifications ? { ...options.notifications, ...(options.egress ? { egress: options.egress } : {}) } : undefined),
    ...createKnowledgeActivities(options.knowledge ? { ...options.knowledge, ...(options.lineSink ? { lineSink: options.lineSink } : {}) } : undefined),
    ...createCooperativeActivities(options.cooperative),
  };
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle: options.workflowBundle,
    activities,
    dataConverter: options.dataConverter,
    ...(options.interceptors ? { interceptors: options.interceptors } : {}),
    // On SIGTERM, running activities get this long to finish before they are cancelled.
    shutdownGraceTime: options.shutdownGraceMs,
  });
  return { worker, connection };
}


/** How the installation's workers start action processes (see activities/shell/action-sandbox.ts). */
export function actionProcessPolicyOf(env: Pick<JarvisEnv, 'actionUser' | 'searchPath'>): ActionProcessPolicy {
  return resolveActionProcessPolicy(env.actionUser, env.searchPath);
}

/** This worker process's record of the action process groups it starts, after ending those a crashed worker left running. */
export function openProcessLedger(dataDir: string, log: (line: string) => void): ProcessLedger {
  const { ledger, killed } = ProcessLedger.open(path.join(dataDir, 'action-processes'));
  if (killed.length > 0) log(`Killed ${killed.length} action process group(s) that a crashed worker left running: ${killed.join(', ')}`);
  return ledger;
}

/** The worker of an installation, configured from its environment (npm start and npm run worker). */
export async function createWorkerFromEnv(env: JarvisEnv, address: string, stores: WorkerStores, log: (line: string) => void = console.log) {
  const processes = { ...actionProcessPolicyOf(env), ledger: openProcessLedger(env.dataDir, log) };
  log(
    processes.user
      ? `Action processes run as ${processes.user.name}, with a minimal environment`
      : 'Action processes run as this worker\'s own user (it is not root), with a minimal environment: start the worker as root to run them as another user (JARVIS_ACTION_USER)',
  );
  return createRunbookWorker({
    address,
    namespace: env.namespace,
    taskQueue: env.taskQueue,
    workflowBundle: await bundleWorkflows(),
    shutdownGraceMs: env.workerShutdownGraceMs,
    playbooksDir: env.playbooksDir,
    processes,
    authority: runAuthorityOf(env),
    ...(env.temporalTls ? { tls: temporalTlsOf(env) } : {}),
    dataConverter: createDataConverter(env, stores.keyGenerations ? { generations: stores.keyGenerations } : {}),
    ...workerStoreOptions(stores),
  });
}
