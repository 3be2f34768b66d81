// The worker process: `npm run worker`. It polls the runbook task queue until
// SIGINT or SIGTERM, then lets running activities finish within the grace time.
import { loadEnv } from '../config/env.js';
import { waitForTemporal } from './client.js';
import { temporalTlsOf } from './tls.js';
import { ensureNodeHealthScheduleFromEnv } from './node-health-schedule.js';
import { createWorkerFromEnv } from './worker.js';
import { openWorkerStores } from './worker-stores.js';
import { ensureEarningsScheduleFromEnv } from '../cooperative/earnings-schedule.js';

const env = loadEnv();
const address = env.temporalAddress ?? `127.0.0.1:${env.temporalPort}`;
// A worker started before Temporal (or while it is down) waits for it rather than exiting.
await (await waitForTemporal(address, (line) => console.log(`jarvis worker: ${line}`), temporalTlsOf(env))).close();
// Without DATABASE_URL (the embedded database belongs to `npm start`), lines go to this process's output.
const stores = openWorkerStores(env.databaseUrl, env);
const { worker, connection } = await createWorkerFromEnv(env, address, stores);
console.log(`jarvis worker polling task queue "${env.taskQueue}" on ${address} (namespace ${env.namespace})`);
// The node inventory lives in the database: without one, this worker has no nodes to check.
if (stores.nodes) await ensureNodeHealthScheduleFromEnv(env, address);
if (stores.nodes) await ensureEarningsScheduleFromEnv(env, address);
try {
  await worker.run();
} finally {
  await stores.close();
  await connection.close();
}
console.log('jarvis worker stopped');
// Native runtime handles can outlive a clean shutdown; everything is closed by now.
process.exit(0);
