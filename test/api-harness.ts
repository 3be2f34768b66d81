// The API built exactly as server.ts builds it, on a fresh PostgreSQL
// database, the suite's Temporal server and a worker of its own.
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { inject } from 'vitest';
import { loadEnv, PROJECT_ROOT } from '../config/env.js';
import { createPrismaClient } from '../db/database.js';
import { migrate } from '../db/migrator.js';
import type { Role } from '../manifest/types.js';
import { buildApi } from '../api/app.js';
import { createControlPlane } from '../api/services.js';
import { createWorkerLineSink } from '../logs/worker-line-sink.js';
import { createServerDatabase } from './databases.js';
import { startWorker, testDataConverter, uniqueTaskQueue } from './harness.js';

export interface TestUser {
  email: string;
  password: string;
  grants: Array<[environment: string, role: Role]>;
}

export async function startApiForTests(runbooksDir: string, users: TestUser[]) {
  const database = await createServerDatabase();
  await migrate(database.url);
  const prisma = createPrismaClient(database.url);
  const taskQueue = uniqueTaskQueue('api');
  const lines = createWorkerLineSink(database.url);
  const worker = await startWorker(taskQueue, undefined, lines.sink);
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  const temporal = new Client({ connection, dataConverter: testDataConverter() });
  const services = await createControlPlane(
    { dataDir: loadEnv().dataDir, secretKey: undefined, runbooksDir, taskQueue, accessTokenTtlMs: 15 * 60_000, refreshTokenTtlMs: 30 * 86_400_000 },
    { prisma, url: database.url },
    temporal,
  );
  for (const user of users) {
    const created = await services.users.createUser({ email: user.email, name: user.email.split('@')[0] ?? user.email, password: user.password });
    for (const [environment, role] of user.grants) await services.users.grant(created.id, environment, role);
  }
  const app: FastifyInstance = await buildApi(services, { corsOrigins: ['http://127.0.0.1:3000'], secureCookies: false, rateLimitPerMinute: 100_000, loginAttemptsPerMinute: 1_000 });
  await app.ready();
  return {
    app,
    prisma,
    services,
    temporal,
    root: PROJECT_ROOT,
    async logIn(email: string, password: string): Promise<string> {
      const response = await app.inject({ method: 'POST', url: '/auth/login', payload: { email, password } });
      if (response.statusCode !== 200) throw new Error(`login of ${email} failed: ${response.body}`);
      return response.json().accessToken as string;
    },
    async stop() {
      await app.close();
      await services.close();
      await worker.stop();
      await lines.close();
      await prisma.$disconnect();
      await connection.close();
      await database.drop();
    },
  };
}
