// The API built exactly as server.ts builds it, on a fresh PostgreSQL
// database (or the embedded default), the suite's Temporal server and a worker of its own.
import { Client, Connection } from '@temporalio/client';
import { inject } from 'vitest';
import type { AiSettings } from '../ai/model-provider.js';
import type { Role } from '../manifest/types.js';
import type { ArtifactSettings } from '../artifacts/artifact-settings.js';
import type { ControlPlaneConfig } from '../api/services.js';
import { buildApiForTests, createMigratedDatabase, openEmbeddedDatabase, type NotificationTestOptions } from './control-plane.js';
import { loadEnv } from '../config/env.js';
import { openWorkerStores } from '../temporal/worker-stores.js';
import { startWorker, testDataConverter, uniqueTaskQueue } from './harness.js';

export interface TestUser {
  email: string;
  password: string;
  grants: Array<[environment: string, role: Role]>;
}

/**
 * `ai`: the model API the API and its worker use (both embed the same way); offline without it.
 * `gitAllowFileUrls`: git connections may name local repositories (JARVIS_GIT_ALLOW_FILE_URLS), for local bare repositories standing in for GitHub.
 * `embedded`: the embedded default database (PGlite) instead of a PostgreSQL database.
 * `artifacts`: where the worker and the API store artifacts (JARVIS_ARTIFACTS_* otherwise).
 */
export async function startApiForTests(
  runbooksDir: string,
  users: TestUser[],
  options: {
    artifacts?: ArtifactSettings;
    ai?: AiSettings;
    gitAllowFileUrls?: boolean;
    embedded?: boolean;
    controlWorker?: boolean;
    notifications?: NotificationTestOptions;
    retentionPurge?: ControlPlaneConfig['retentionPurge'];
  } = {},
) {
  const database = options.embedded ? await openEmbeddedDatabase() : await createMigratedDatabase();
  const prisma = database.prisma;
  const taskQueue = uniqueTaskQueue('api');
  const stores = openWorkerStores(database.url, { ...loadEnv(), ...(options.ai ? { ai: options.ai } : {}), ...(options.artifacts ? { artifacts: options.artifacts } : {}) });
  const worker = await startWorker(taskQueue, undefined, stores);
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  const temporal = new Client({ connection, dataConverter: testDataConverter() });
  const { app, services } = await buildApiForTests(database, runbooksDir, taskQueue, temporal, options);
  for (const user of users) {
    const created = await services.users.createUser({ email: user.email, name: user.email.split('@')[0] ?? user.email, password: user.password });
    for (const [environment, role] of user.grants) await services.users.grant(created.id, environment, role);
  }
  await app.ready();
  return {
    app,
    prisma,
    database,
    runbooksDir,
    databaseUrl: database.url,
    /** The task queue of this API's worker (for schedules a test starts). */
    taskQueue,
    services,
    temporal,
    async logIn(email: string, password: string): Promise<string> {
      const response = await app.inject({ method: 'POST', url: '/auth/login', payload: { email, password } });
      if (response.statusCode !== 200) throw new Error(`login of ${email} failed: ${response.body}`);
      return response.json().accessToken as string;
    },
    async stop() {
      await app.close();
      await services.close();
      await worker.stop();
      await stores.close();
      await connection.close();
      await database.drop();
    },
  };
}
