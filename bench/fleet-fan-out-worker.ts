// The worker of bench:fleet's hand-written fan-out, in a process of its own as
// the fleet's batch workflows have one (the stack's worker): sharing the
// process of thousands of simulated agents would slow it for no fair reason.
// Polls BENCH_FAN_OUT_QUEUE; says "ready" on stdout once polling; stops on SIGTERM.
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import path from 'node:path';
import pg from 'pg';
import { loadEnv, PROJECT_ROOT } from '../config/env.js';
import { PayloadKeyGenerations } from '../security/payload-key-generations.js';
import { createDataConverter } from '../temporal/payload-codec.js';

const env = loadEnv();
const taskQueue = process.env.BENCH_FAN_OUT_QUEUE;
if (!env.temporalAddress || !env.databaseUrl || !taskQueue) throw new Error('the fan-out worker needs TEMPORAL_ADDRESS, DATABASE_URL and BENCH_FAN_OUT_QUEUE');
Runtime.install({ logger: new DefaultLogger('ERROR') });
const pool = new pg.Pool({ connectionString: env.databaseUrl, max: 2 });
const connection = await NativeConnection.connect({ address: env.temporalAddress });
const worker = await Worker.create({
  connection,
  namespace: 'default',
  taskQueue,
  workflowsPath: path.join(PROJECT_ROOT, 'bench', 'fleet-fan-out-workflow.ts'),
  dataConverter: createDataConverter(env, { generations: new PayloadKeyGenerations(pool) }),
});
const running = worker.run();
console.log('ready');
await running;
await connection.close();
await pool.end();
process.exit(0);
