// The composition root of the control plane: builds every service from the
// configuration, for the API process, `npm start` and the tests alike.
import type { Client, Connection } from '@temporalio/client';
import type { JarvisEnv } from '../config/env.js';
import type { Database } from '../db/database.js';
import { actionCatalog } from '../activities/catalog.js';
import { RunbookCatalog } from '../manifest/catalog.js';
import { RunService } from '../runs/run-service.js';
import type { RunServiceHooks } from '../runs/run-starts.js';
import { GitSyncService, gitConfigCheck } from './services/git-sync-service.js';
import { GitWebhookService } from './services/git-webhook-service.js';
import { RunSummaryStore } from '../runs/run-summary-store.js';
import { RunReportService } from '../runs/run-report.js';
import { CredentialsCipher } from '../security/credentials-cipher.js';
import { RUN_AUTHORITY_PURPOSE, RunAuthority } from '../security/run-authority.js';
import { SecretKey } from '../security/secret-key.js';
import { EncryptionCodec } from '../temporal/payload-codec.js';
import { DerivedPayloadKeyRing } from '../temporal/payload-keys.js';
import { PayloadKeyGenerations } from '../security/payload-key-generations.js';
import { AccessTokens, LogTickets } from '../security/tokens.js';
import { RunLogListener } from '../logs/run-log-listener.js';
import { RunLogStore } from '../logs/run-log-store.js';
import { NodeStore } from '../infra/node-store.js';
import { EgressAllowlistStore } from '../infra/egress-allowlist-store.js';
import { createEmbedder } from '../ai/embedder.js';
import { KnowledgeStore } from '../ai/knowledge-store.js';
import { isAiConfigured, ModelProvider, type AiSettings } from '../ai/model-provider.js';
import { PlanStore } from '../ai/plan-store.js';
import { aiCallers } from './services/ai-audit.js';
import { AiPlanService } from './services/ai-plan-service.js';
import { AiService } from './services/ai-service.js';
import { EnvironmentService } from './services/environment-service.js';
import { HealthService } from './services/health-service.js';
import { IdempotencyKeyService } from './services/idempotency-key-service.js';
import path from 'node:path';
import pg from 'pg';
import { reportIdleConnectionError } from '../db/pool-errors.js';
import type { ApiDependencies } from './app.js';
import { AuditService } from './services/audit-service.js';
import { AuthService } from './services/auth-service.js';
import { SignInBackoff } from './services/sign-in-backoff.js';
import { ConnectionService } from './services/connection-service.js';
import { RunbookVersionService } from './services/runbook-version-service.js';
import { UserService } from './services/user-service.js';
import { ScheduleService } from '../schedules/schedule-service.js';
import { createScheduleFireActivities } from '../schedules/schedule-fire-activities.js';
import { startControlWorker } from './control-worker.js';
import { temporalTlsOf } from '../temporal/tls.js';
import { TriggerReceiver, type TriggerEvents } from './services/trigger-receiver.js';
import { TriggerService } from './services/trigger-service.js';

import { NotificationService } from './services/notification-service.js';
import { RetentionService } from './services/retention-service.js';
import { RetentionPolicies } from '../retention/retention-policies.js';
import { RunHolds } from '../retention/run-holds.js';
import { createRetentionActivities, type PurgeHooks, type RunArtifactPurger } from '../retention/purge-activities.js';
import { ensureRetentionSchedule, RETENTION_SCHEDULE_ID } from '../retention/purge-schedule.js';
import { channelConfigChecks } from '../activities/notify/index.js';
import { NotificationDispatcher, type DispatcherOptions } from '../notifications/dispatcher.js';
import { NotificationEvents } from '../notifications/notification-events.js';
import type { NewNotificationEvent } from '../notifications/events.js';
import { NotificationStore } from '../notifications/notification-store.js';
import { RunProjectionRepair, type RepairOptions } from '../runs/run-projection-repair.js';
import { defaultArtifactSettings, openRunArtifacts } from '../artifacts/open-artifact-store.js';
import { COOPERATIVE_AUTHORITY_PURPOSE } from '../cooperative/transfer-authority.js';
import { createCooperative } from '../cooperative/compose.js';

export type ControlPlaneConfig = Pick<JarvisEnv, 'dataDir' | 'secretKey' | 'runbooksDir' | 'taskQueue' | 'accessTokenTtlMs' | 'refreshTokenTtlMs' | 'apiTokenMaxTtlMs'> &
  Partial<Pick<JarvisEnv, 'agentTemporalAddress' | 'enrollmentTokenTtlMs' | 'gitAllowFileUrls' | 'searchPath' | 'temporalTls' | 'approvalDeadlineWindowMs' | 'artifacts' | 'retention'>> & {
    /**
     * The retention purge's schedule: its id (tests use their own) and whether
     * to create it at start; always created in production. Crash points for tests.
     */
    retentionPurge?: { schedule?: boolean; scheduleId?: string; hooks?: PurgeHooks; batchSize?: number };
    /** Deletes a run's artifacts when the purge removes it or its artifacts' retention passed (default: the artifact store). */
    artifactPurger?: RunArtifactPurger;
    /** The notification dispatcher's slow poll (it is woken by NOTIFY too). */
    notificationPollMs?: number;
    /** Crash points of the notification dispatcher, for tests. */
    notificationHooks?: DispatcherOptions['hooks'];
    /** The model API; without it (or without a chat model) AI Ops answers from retrieval alone. */
    ai?: AiSettings;
    /** Crash points for tests (a start interrupted as a killed API would interrupt it); none in production. */
    runHooks?: RunServiceHooks;
    /** false: no control worker (tests of a fire made while the API is down); always one in production. */
    controlWorker?: boolean;
    /** Who hears what triggers do (a delivery refused because its owner lost the right to run the runbook). */
    triggerEvents?: TriggerEvents;
    /** How often and how far back the run-summary projection is checked against Temporal. */
    projectionRepair?: RepairOptions;
  };

/**
 * A refusal to tell people about: one message per subject and hour at most,
 * so a schedule firing every minute for an owner who lost the right, or a
 * trigger hammered with deliveries, does not flood anyone.
 */
function refusedEvent(kind: 'schedule.fire-refused' | 'trigger.refused', subjectKey: string, environment: string, subject: string, reason: string): NewNotificationEvent {
  const hour = new Date().toISOString().slice(0, 13);
  return { kind, environment, payload: { subject, reason }, dedupKey: `${subjectKey}:refused:${hour}` };
}

/** The installation's retention defaults when the configuration gives none (config/env.ts has the same). */
const DEFAULT_RETENTION: JarvisEnv['retention'] = { defaults: { runs: '90d', logs: '30d', artifacts: '30d' }, purgeIntervalMs: 86_400_000 };

const OFFLINE_AI: AiSettings = { timeoutMs: 60_000, maxRetries: 3 };

const ENROLLMENT_TTL_MS = 60 * 60_000;

export async function createControlPlane(config: ControlPlaneConfig, database: { prisma: Database; url: string }, temporal: Client): Promise<ApiDependencies & { close(): Promise<void> }> {
  const db = database.prisma;
  const secret = SecretKey.load(config.secretKey, config.dataDir);
  const catalog = await RunbookCatalog.fromDirectory(config.runbooksDir, actionCatalog);
  const runbookVersions = new RunbookVersionService(db, catalog);
  await runbookVersions.loadActive();
  const credentials = new CredentialsCipher([secret.derive('credentials')]);
  const gitRuntime = { allowFileUrls: config.gitAllowFileUrls ?? false, home: path.join(config.dataDir, 'git-home'), searchPath: config.searchPath ?? '/usr/local/bin:/usr/bin:/bin' };
  const connections = new ConnectionService(db, credentials, { git: gitConfigCheck(gitRuntime), ...channelConfigChecks });
  const pool = new pg.Pool({ connectionString: database.url, max: 8 });
  pool.on('error', reportIdleConnectionError);
  // Not cached: an agent asking right after a rotation gets the new key.
  const payloadKeyGenerations = new PayloadKeyGenerations(pool, 0);
  const payloadKeys = new DerivedPayloadKeyRing(secret, payloadKeyGenerations);
  const logListener = new RunLogListener(database.url);
  await logListener.start();
  const runSummaries = new RunSummaryStore(pool);
  // The same store as the workers': what a step published is read from where it was written.
  const artifacts = openRunArtifacts(pool, config.artifacts ?? defaultArtifactSettings(config.dataDir));
  const runs = new RunService(temporal, catalog, config.taskQueue, new RunAuthority(secret.derive(RUN_AUTHORITY_PURPOSE)), runSummaries, config.runHooks);
  const notificationStore = new NotificationStore(pool);
  const dispatcher = new NotificationDispatcher(pool, database.url, temporal, notificationStore, runSummaries, {
    taskQueue: config.taskQueue,
    ...(config.approvalDeadlineWindowMs ? { deadlineWindowMs: config.approvalDeadlineWindowMs } : {}),
    ...(config.notificationPollMs ? { pollMs: config.notificationPollMs } : {}),
    ...(config.notificationHooks ? { hooks: config.notificationHooks } : {}),
  });
  const git = new GitSyncService(connections, runbookVersions, config.dataDir, gitRuntime, (request) => runs.startRun(request));
  const audit = new AuditService(db);
  const logStore = new RunLogStore(pool);
  const nodes = new NodeStore(pool);
  const ai = config.ai ?? OFFLINE_AI;
  // A provider only when a chat model can be reached; the embedder always (the offline one without an embedding model).
  const provider = isAiConfigured(ai) ? new ModelProvider(ai) : undefined;
  const embedder = createEmbedder(ai, {
    ...(provider ? { provider } : {}),
    onCall: (accounting) => {
      const caller = aiCallers.getStore();
      void audit
        .record({ ...(caller ? { actorId: caller.id, actorEmail: caller.email } : {}), action: 'ai.embed', targetType: 'ai', outcome: 'success', details: { ...accounting } })
        .catch((error: unknown) => console.error('could not audit an embedding call', error));
    },
  });
  const knowledge = new KnowledgeStore(pool, embedder);
  const aiService = new AiService({ runs, logs: logStore, knowledge, audit, catalog, ...(provider ? { provider } : {}) });
  const aiPlans = new AiPlanService({ runs, logs: logStore, knowledge, plans: new PlanStore(pool), audit, nodes, connections, catalog, ...(provider ? { provider } : {}) });
  const triggers = new TriggerService(db, credentials, (name) => runs.compileRunbook(name).runbook);
  const notificationEvents = new NotificationEvents(pool);
  const triggerReceiver = new TriggerReceiver(triggers, db, (request) => runs.startRun(request), audit, {
    async onRefused(refusal) {
      await notificationEvents.emit(refusedEvent('trigger.refused', `trigger:${refusal.triggerId}`, refusal.environment, `${refusal.triggerName} (${refusal.runbook})`, refusal.reason));
      await config.triggerEvents?.onRefused?.(refusal);
    },
    async onAlertResolved(resolved) {
      const { alert } = resolved;
      const name = alert.labels.alertname ?? alert.fingerprint;
      await notificationEvents.emit({
        kind: 'alert.resolved',
        environment: resolved.environment,
        payload: { subject: `${name} (${resolved.triggerName})`, runbook: resolved.runbook, reason: `resolved at ${alert.endsAt}` },
        dedupKey: `alert:${resolved.triggerId}:${alert.fingerprint}:${alert.startsAt}:resolved`,
      });
      await config.triggerEvents?.onAlertResolved?.(resolved);
    },
  });
  const auth = new AuthService(db, new AccessTokens(secret.derive('access-tokens'), config.accessTokenTtlMs), credentials, new SignInBackoff(db), {
    refreshTtlMs: config.refreshTokenTtlMs,
    apiTokenMaxTtlMs: config.apiTokenMaxTtlMs,
  });
  const schedules = new ScheduleService(db, temporal, runs, credentials, config.taskQueue);
  const fireActivities = createScheduleFireActivities({
    db,
    temporal,
    schedules,
    audit,
    principalOfUser: (userId) => auth.principalOfUser(userId),
    onRefused: (refusal) =>
      notificationEvents.emit(refusedEvent('schedule.fire-refused', `schedule:${refusal.scheduleId}`, refusal.environment, `${refusal.name} (${refusal.runbook})`, refusal.reason)),
  });
  const retentionConfig = config.retention ?? DEFAULT_RETENTION;
  const retentionPolicies = new RetentionPolicies(pool, retentionConfig.defaults);
  const runHolds = new RunHolds(pool);
  const retentionScheduleId = config.retentionPurge?.scheduleId ?? RETENTION_SCHEDULE_ID;
  const retentionActivities = createRetentionActivities({
    pool,
    temporal,
    policies: retentionPolicies,
    holds: runHolds,
    audit,
    scheduleId: retentionScheduleId,
    artifacts: config.artifactPurger ?? artifacts,
    ...(config.retentionPurge?.hooks ? { hooks: config.retentionPurge.hooks } : {}),
    ...(config.retentionPurge?.batchSize ? { batchSize: config.retentionPurge.batchSize } : {}),
  });
  const retention = new RetentionService(pool, temporal, config.taskQueue, retentionPolicies, runHolds);
  const cooperative = createCooperative({
    pool,
    temporal,
    taskQueue: config.taskQueue,
    authorityKey: secret.derive(COOPERATIVE_AUTHORITY_PURPOSE),
    runs,
    principalOfUser: (userId) => auth.principalOfUser(userId),
  });
  const controlWorker =
    config.controlWorker === false
      ? undefined
      : await startControlWorker(
          temporal,
          config.taskQueue,
          { ...fireActivities, ...retentionActivities, ...cooperative.activities },
          config.temporalTls ? temporalTlsOf({ temporalTls: config.temporalTls }) : undefined,
        );
  // Temporal keeps closed executions for the longest runs retention; the daily purge shortens it per environment.
  const retentionReady = Promise.all([
    retention.applyNamespaceRetention(),
    config.retentionPurge?.schedule === false
      ? undefined
      : ensureRetentionSchedule(temporal, { taskQueue: config.taskQueue, intervalMs: retentionConfig.purgeIntervalMs, scheduleId: retentionScheduleId }),
  ]).catch((error: unknown) => console.error('could not set up the retention of run history in Temporal', error));
  // Schedules whose Temporal Schedule was lost (a crash right after their row was written, a wiped Temporal) fire again.
  const schedulesReconciled = schedules
    .reconcile()
    .then((recreated) => recreated.length > 0 && console.log(`created the Temporal Schedules of ${recreated.join(', ')} again`))
    .catch((error: unknown) => console.error('could not reconcile schedules with Temporal', error));
  // Objects a crashed worker stored without recording them (older than a day) are removed once per start.
  const artifactsSwept = artifacts
    .sweepOrphans()
    .then((removed) => removed > 0 && console.log(`removed ${removed} artifact object(s) that no run recorded`))
    .catch((error: unknown) => console.error('could not sweep unrecorded artifact objects:', error instanceof Error ? error.message : error));
  const runbooksIngested = aiService.ingestRunbooks().catch((error: unknown) => console.error('could not ingest runbook descriptions into the knowledge base', error));
  // Runs are listed from the projection: rows a run could not write itself are rebuilt from Temporal.
  const projectionRepair = new RunProjectionRepair(temporal, pool, runs, config.taskQueue, config.projectionRepair);
  projectionRepair.start();
  // Last: nothing above can fail after it started (its LISTEN connection and poll would be left running).
  await dispatcher.start();
  return {
    temporal,
    catalog,
    runs,
    auth,
    schedules,
    audit,
    ai: aiService,
    aiPlans,
    users: new UserService(db),
    environments: new EnvironmentService(db),
    idempotencyKeys: new IdempotencyKeyService(db),
    health: new HealthService(db, temporal),
    runbookVersions,
    connections,
    git,
    gitWebhooks: new GitWebhookService(git, db),
    // For Temporal's UI, which also sends what Temporal writes in clear (markers): shown as they are, never acted on.
    payloadCodec: new EncryptionCodec(payloadKeys, { acceptPlaintext: true }),
    logStore,
    logListener,
    logTickets: new LogTickets(secret.derive('log-tickets')),
    nodes,
    egressAllowlists: new EgressAllowlistStore(pool),
    triggers,
    triggerReceiver,
    notifications: new NotificationService(pool, notificationStore, dispatcher),
    notificationEvents,
    reports: new RunReportService(pool),
    artifacts,
    retention,
    cooperative: cooperative.service,
    agents: {
      // Agents are told the address they can reach, which may differ from the one the API uses.
      temporalAddress: config.agentTemporalAddress ?? (temporal.connection as Connection).options.address,
      namespace: temporal.options.namespace,
      // An agent gets its environment's payload key only: it decrypts its activities' payloads and nothing else.
      codecKey: async (environment: string) => {
        const generation = await payloadKeyGenerations.current(environment);
        return { key: payloadKeys.environmentKey(environment, generation).key, generation };
      },
      enrollmentTtlMs: config.enrollmentTokenTtlMs ?? ENROLLMENT_TTL_MS,
    },
    async close() {
      await runbooksIngested;
      await schedulesReconciled;
      await artifactsSwept;
      await retentionReady;
      await controlWorker?.stop();
      await projectionRepair.stop();
      await dispatcher.stop();
      await logListener.stop();
      artifacts.store.close?.();
      await pool.end();
    },
  };
}
