// `npm run bench:ledger`: credit transfers per second through the transfer
// workflow (a private Temporal dev server and a worker in this process) and
// the same number of transfers as direct SQL transactions (the ledger's own
// transaction, no Temporal), between the same 20 accounts, with the same
// number in flight, in one run; then their ratio.
import pg from 'pg';
import { loadEnv } from '../config/env.js';
import { ISSUANCE_ACCOUNT_ID, Ledger, type Account, type TransferRequest } from '../cooperative/ledger.js';
import { transferAuthorityOf } from '../cooperative/transfer-authority.js';
import { TransferService } from '../cooperative/transfer-service.js';
import { createMigratedDatabase } from '../test/control-plane.js';
import { startLocalEngine } from '../test/local-engine.js';
import { openWorkerStores } from '../temporal/worker-stores.js';
import { emitterFor, sizeFromEnv } from './figures.js';

const TRANSFERS = sizeFromEnv('BENCH_TRANSFERS', 1_000);
const IN_FLIGHT = sizeFromEnv('BENCH_IN_FLIGHT', 50);
const ACCOUNTS = 20;
const TASK_QUEUE = 'bench-ledger';

const emit = emitterFor('ledger');

/** Runs `work` for 0..count-1 with at most `limit` at once; answers the seconds it took. */
async function timed(count: number, limit: number, work: (index: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < count) await work(next++);
    }),
  );
  return (performance.now() - started) / 1_000;
}

const database = await createMigratedDatabase();
const env = loadEnv();
const stores = openWorkerStores(database.url, env);
const engine = await startLocalEngine({ name: 'bench-ledger', taskQueue: TASK_QUEUE, stores });
// As many connections as the worker's ledger has (temporal/worker-stores.ts): the same database capacity on both sides.
const pool = new pg.Pool({ connectionString: database.url, max: 4 });
try {
  const ledger = new Ledger(pool);
  const accounts: Account[] = [];
  for (let index = 0; index < ACCOUNTS; index += 1) {
    const user = await database.prisma.user.create({ data: { email: `bench-${index}@example.org`, name: `bench ${index}`, passwordHash: 'unused' } });
    const account = await ledger.memberAccount(user.id, user.email);
    // Enough that no transfer is refused: both sides do the same work.
    await ledger.applyTransfer({ requestedBy: 'system:bench', idempotencyKey: `opening-${index}`, kind: 'issue', from: ISSUANCE_ACCOUNT_ID, to: account.id, amount: 10 * TRANSFERS });
    accounts.push(account);
  }
  const order = (prefix: string, index: number): TransferRequest => {
    const from = accounts[index % ACCOUNTS]!;
    const to = accounts[(index * 7 + 3) % ACCOUNTS === index % ACCOUNTS ? (index + 1) % ACCOUNTS : (index * 7 + 3) % ACCOUNTS]!;
    return { requestedBy: from.userId!, idempotencyKey: `${prefix}-${index}`, kind: 'transfer', from: from.id, to: to.id, amount: 1 + (index % 5) };
  };
  const transfers = new TransferService(engine.client, TASK_QUEUE, transferAuthorityOf(env));
  // A short warm-up on both paths (connections, workflow cache) that is not measured.
  await timed(20, 10, (index) => transfers.transfer(order('warm-workflow', index)));
  await timed(20, 10, (index) => ledger.applyTransfer(order('warm-sql', index)));

  const workflowSeconds = await timed(TRANSFERS, IN_FLIGHT, async (index) => {
    const result = await transfers.transfer(order('workflow', index));
    if (result.status !== 'applied') throw new Error(`transfer ${index} was refused: ${result.reason}`);
  });
  const sqlSeconds = await timed(TRANSFERS, IN_FLIGHT, async (index) => {
    const result = await ledger.applyTransfer(order('sql', index));
    if (result.status !== 'applied') throw new Error(`transfer ${index} was refused: ${result.reason}`);
  });
  const extra = { transfers: TRANSFERS, inFlight: IN_FLIGHT, accounts: ACCOUNTS };
  const throughWorkflow = TRANSFERS / workflowSeconds;
  const directSql = TRANSFERS / sqlSeconds;
  emit('workflow_transfers_per_s', throughWorkflow, 'transfers/s', extra);
  emit('sql_transfers_per_s', directSql, 'transfers/s', { ...extra, baseline: true });
  emit('workflow_to_sql_ratio', throughWorkflow / directSql, 'ratio', extra);
} finally {
  await pool.end();
  await engine.stop();
  await stores.close();
  await database.drop();
}
