// The API on a private Temporal dev server, a worker and a fresh database, for
// benchmarks (PostgreSQL at JARVIS_TEST_DATABASE_URL).
import type { FastifyInstance } from 'fastify';
import { buildApiForTests, createMigratedDatabase } from '../test/control-plane.js';
import { writeManifests } from '../test/files.js';
import { startLocalEngine } from '../test/local-engine.js';
import { loadEnv } from '../config/env.js';
import { openWorkerStores } from '../temporal/worker-stores.js';

export const BENCH_PASSWORD = 'benchmark password 1';

export async function startBenchApi(manifests: Record<string, string>, extend?: (app: FastifyInstance) => void) {
  const database = await createMigratedDatabase();
  const stores = openWorkerStores(database.url, loadEnv());
  const engine = await startLocalEngine({ name: 'bench-api', taskQueue: 'bench-api', stores });
  const { app, services } = await buildApiForTests(database, writeManifests(manifests), 'bench-api', engine.client);
  const user = await services.users.createUser({ email: 'bench@example.org', name: 'Bench', password: BENCH_PASSWORD });
  await services.users.grant(user.id, 'dev', 'operator');
  extend?.(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const login = await fetch(`${baseUrl}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'bench@example.org', password: BENCH_PASSWORD }),
  });
  const token = ((await login.json()) as { accessToken: string }).accessToken;
  return {
    app,
    baseUrl,
    token,
    services,
    prisma: database.prisma,
    client: engine.client,
    async stop() {
      await app.close();
      await services.close();
      await engine.stop();
      await stores.close();
      await database.drop();
    },
  };
}
