// The API on a private Temporal dev server, a worker and a fresh database, for
// benchmarks. PostgreSQL at JARVIS_TEST_DATABASE_URL when reachable.
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../api/app.js';
import { createControlPlane } from '../api/services.js';
import { loadEnv } from '../config/env.js';
import { createPrismaClient } from '../db/database.js';
import { migrate } from '../db/migrator.js';
import { createWorkerLineSink } from '../logs/worker-line-sink.js';
import { startLocalEngine } from '../test/local-engine.js';
import { createServerDatabase } from '../test/databases.js';
import { writeManifests } from '../test/files.js';

export const BENCH_PASSWORD = 'benchmark password 1';

export async function startBenchApi(manifests: Record<string, string>, extend?: (app: FastifyInstance) => void) {
  const env = loadEnv();
  const database = await createServerDatabase();
  await migrate(database.url);
  const lines = createWorkerLineSink(database.url);
  const engine = await startLocalEngine({ name: 'bench-api', taskQueue: 'bench-api', lineSink: lines.sink });
  const prisma = createPrismaClient(database.url);
  const services = await createControlPlane(
    { dataDir: env.dataDir, secretKey: env.secretKey, runbooksDir: writeManifests(manifests), taskQueue: 'bench-api', accessTokenTtlMs: 3_600_000, refreshTokenTtlMs: 86_400_000 },
    { prisma, url: database.url },
    engine.client,
  );
  const user = await services.users.createUser({ email: 'bench@example.org', name: 'Bench', password: BENCH_PASSWORD });
  await services.users.grant(user.id, 'dev', 'operator');
  const app = await buildApi(services, { corsOrigins: [], secureCookies: false, rateLimitPerMinute: 100_000_000, loginAttemptsPerMinute: 1_000 });
  extend?.(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const login = await fetch(`${baseUrl}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'bench@example.org', password: BENCH_PASSWORD }) });
  const token = ((await login.json()) as { accessToken: string }).accessToken;
  return {
    app,
    baseUrl,
    token,
    services,
    client: engine.client,
    async stop() {
      await app.close();
      await services.close();
      await engine.stop();
      await lines.close();
      await prisma.$disconnect();
      await database.drop();
    },
  };
}
