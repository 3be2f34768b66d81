// `npm start`: the whole product on one machine. Starts (or reuses) Temporal,
// registers what it needs, opens the database (applying migrations), runs the
// worker and the API, and says how to start a run.
import { startApi } from './api/server.js';
import { startWeb } from './web/server.js';
import { TEMPORAL_UI_PATH } from './web/temporal-ui-proxy.js';
import { loadEnv } from './config/env.js';
import { openDatabase } from './db/database.js';
import { ensurePrivateDataDir } from './security/secret-key.js';
import { ensureTemporal } from './temporal/dev-server.js';
import { ensureNodeHealthScheduleFromEnv } from './temporal/node-health-schedule.js';
import { createWorkerFromEnv } from './temporal/worker.js';
import { openWorkerStores } from './temporal/worker-stores.js';
import { ensureEarningsScheduleFromEnv } from './cooperative/earnings-schedule.js';

const env = loadEnv();
const log = (line: string) => console.log(`[jarvis] ${line}`);
ensurePrivateDataDir(env.dataDir);

const temporal = await ensureTemporal({
  temporalAddress: env.temporalAddress,
  namespace: env.namespace,
  port: env.temporalPort,
  uiPort: env.temporalUiPort,
  // Served under /temporal behind the web app (admins only, read-only), so the codec is on the UI's origin.
  ui: { publicPath: TEMPORAL_UI_PATH, codecEndpoint: '/temporal-codec' },
  httpPort: env.temporalHttpPort,
  dataDir: env.dataDir,
  searchPath: env.searchPath,
  cacheBinDir: env.cacheBinDir,
  log,
});
log(`Temporal at ${temporal.address}`);

const database = await openDatabase({ databaseUrl: env.databaseUrl, dataDir: env.dataDir, log });
const stores = openWorkerStores(database.url, env);
const { worker, connection } = await createWorkerFromEnv(env, temporal.address, stores, log);
log(`Worker polling task queue "${env.taskQueue}"; data in ${env.dataDir}`);
await ensureNodeHealthScheduleFromEnv(env, temporal.address);
await ensureEarningsScheduleFromEnv(env, temporal.address);
log(`Node health checked every ${env.nodeHealthIntervalMs / 1000}s (schedule jarvis-node-health)`);
const api = await startApi(env, temporal.address, log, database);
const web = await startWeb(env, log, temporal.uiUrl ? { temporalUi: new URL(temporal.uiUrl) } : {});
log(`Sign in at http://${env.webHost}:${env.webPort}, or start a run from another terminal:`);
if (temporal.uiUrl) log(`Temporal's web UI for Jarvis admins, read-only, payloads decoded: http://${env.webHost}:${env.webPort}${TEMPORAL_UI_PATH}`);
log('  npx jarvis runbooks list');
log('  npx jarvis run start smoke --watch');
log('Stop with Ctrl-C: running activities get the shutdown grace time to finish.');

try {
  await worker.run();
} finally {
  await stores.close();
  await web.stop();
  await api.stop();
  await connection.close();
  await temporal.stop();
  log('Stopped.');
}
// Native runtime handles can outlive a clean shutdown; everything is closed by now.
process.exit(0);
