// The control plane as tests and benchmarks build it: a fresh migrated
// PostgreSQL database (or the embedded default, opened as `npm start` opens it)
// and the API made by the same factories as server.ts.
import type { Client } from '@temporalio/client';
import type { AiSettings } from '../ai/model-provider.js';
import type { RepairOptions } from '../runs/run-projection-repair.js';
import type { ArtifactSettings } from '../artifacts/artifact-settings.js';
import type { RunServiceHooks } from '../runs/run-starts.js';
import { buildApi } from '../api/app.js';
import { createControlPlane, type ControlPlaneConfig } from '../api/services.js';
import { loadEnv } from '../config/env.js';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPrismaClient, openDatabase } from '../db/database.js';
import { migrate } from '../db/migrator.js';
import { createServerDatabase } from './databases.js';

/** The notification dispatcher's poll, crash points and deadline window, for notification tests. */
export type NotificationTestOptions = Pick<ControlPlaneConfig, 'notificationPollMs' | 'notificationHooks' | 'approvalDeadlineWindowMs'>;

export async function createMigratedDatabase() {
  const database = await createServerDatabase();
  await migrate(database.url);
  const prisma = createPrismaClient(database.url);
  return {
    url: database.url,
    prisma,
    async drop() {
      await prisma.$disconnect();
      await database.drop();
    },
  };
}

/** The embedded default (PGlite) on a fresh data directory, through the same `openDatabase` as `npm start` without DATABASE_URL. */
export async function openEmbeddedDatabase(): Promise<Awaited<ReturnType<typeof createMigratedDatabase>>> {
  const opened = await openDatabase({ dataDir: mkdtempSync(path.join(os.tmpdir(), 'jarvis-embedded-')) });
  return { url: opened.url, prisma: opened.prisma, drop: () => opened.close() };
}

/** `gitAllowFileUrls`: let git connections name local repositories (tests use local bare repositories for GitHub); JARVIS_GIT_ALLOW_FILE_URLS otherwise. */
export async function buildApiForTests(
  database: Awaited<ReturnType<typeof createMigratedDatabase>>,
  runbooksDir: string,
  taskQueue: string,
  temporal: Client,
  options: {
    ai?: AiSettings;
    gitAllowFileUrls?: boolean;
    runHooks?: RunServiceHooks;
    controlWorker?: boolean;
    notifications?: NotificationTestOptions;
    projectionRepair?: RepairOptions;
    artifacts?: ArtifactSettings;
    /** The retention purge's schedule (none unless asked for: the suite shares one Temporal) and crash points. */
    retentionPurge?: ControlPlaneConfig['retentionPurge'];
  } = {},
) {
  const env = loadEnv();
  const { ai, gitAllowFileUrls = env.gitAllowFileUrls, runHooks, controlWorker, artifacts = env.artifacts } = options;
  const services = await createControlPlane(
    {
      dataDir: env.dataDir,
      secretKey: env.secretKey,
      runbooksDir,
      taskQueue,
      accessTokenTtlMs: 15 * 60_000,
      refreshTokenTtlMs: 30 * 86_400_000,
      apiTokenMaxTtlMs: env.apiTokenMaxTtlMs,
      searchPath: env.searchPath,
      gitAllowFileUrls,
      artifacts,
      ...(ai ? { ai } : {}),
      ...(runHooks ? { runHooks } : {}),
      ...(controlWorker === false ? { controlWorker } : {}),
      ...(options.projectionRepair ? { projectionRepair: options.projectionRepair } : {}),
      ...options.notifications,
      retentionPurge: { schedule: false, ...options.retentionPurge },
    },
    database,
    temporal,
  );
  // Limits high enough that suites and load generators measure the API, not the throttle.
  const app = await buildApi(services, { corsOrigins: ['http://127.0.0.1:3000'], secureCookies: false, rateLimitPerMinute: 100_000_000, loginAttemptsPerMinute: 1_000 });
  return { app, services };
}
