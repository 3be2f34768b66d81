// The API process: `npm run api`. `npm start` runs the same thing in-process.
import { loadEnv, type JarvisEnv } from '../config/env.js';
import { openDatabase, type OpenedDatabase } from '../db/database.js';
import { createTemporalClient } from '../temporal/client.js';
import { temporalTlsOf } from '../temporal/tls.js';
import { createDataConverter } from '../temporal/payload-codec.js';
import { buildApi } from './app.js';
import { createControlPlane } from './services.js';

export async function startApi(env: JarvisEnv, temporalAddress: string, log: (line: string) => void, opened?: OpenedDatabase) {
  const database = opened ?? (await openDatabase({ databaseUrl: env.databaseUrl, dataDir: env.dataDir, log }));
  const temporal = await createTemporalClient({ address: temporalAddress, namespace: env.namespace, tls: temporalTlsOf(env) }, createDataConverter(env), 30_000);
  const services = await createControlPlane(env, database, temporal);
  const admin = await services.users.bootstrapAdmin(env.bootstrapAdmin, ['dev', 'staging', 'prod']);
  if (admin) log(`created the first admin ${admin} (admin in dev, staging and prod)`);
  const loopback = env.apiHost === '127.0.0.1' || env.apiHost === 'localhost';
  const app = await buildApi(services, {
    corsOrigins: env.corsOrigins,
    secureCookies: !loopback,
    rateLimitPerMinute: 1_200,
    loginAttemptsPerMinute: env.loginAttemptsPerMinute,
    trustedProxies: env.trustedProxies,
    logger: { level: 'warn' },
  });
  await app.listen({ host: env.apiHost, port: env.apiPort });
  log(`API at http://${env.apiHost}:${env.apiPort} (OpenAPI at /docs; database ${database.embedded ? 'embedded PGlite' : 'PostgreSQL'})`);
  return {
    async stop() {
      await app.close();
      await services.close();
      await temporal.connection.close();
      await database.close();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const env = loadEnv();
  const api = await startApi(env, env.temporalAddress ?? `127.0.0.1:${env.temporalPort}`, (line) => console.log(`[jarvis api] ${line}`));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void api.stop().then(() => process.exit(0)));
  }
}
