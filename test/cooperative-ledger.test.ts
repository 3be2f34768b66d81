// The cooperative's ledger under fire: a thousand concurrent transfers between
// twenty accounts, each a workflow run by a worker process that is killed
// (SIGKILL) twice while they run, with the same idempotency keys sent again
// meanwhile and afterwards.
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadEnv } from '../config/env.js';
import { ISSUANCE_ACCOUNT_ID, Ledger, statementCsv, type Account, type TransferResult } from '../cooperative/ledger.js';
import { transferAuthorityOf, TransferAuthority } from '../cooperative/transfer-authority.js';
import { TransferService, type TransferOrder } from '../cooperative/transfer-service.js';
import { createMigratedDatabase } from './control-plane.js';
import { testDataConverter, uniqueTaskQueue } from './harness.js';
import { spawnWorkerProcess } from './processes.js';
import { waitFor } from './wait.js';

const ACCOUNTS = 20;
const OPENING_BALANCE = 1_000;
const TRANSFERS = 1_000;

/** A small deterministic generator: the same orders every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('the cooperative ledger', () => {
  let database: Awaited<ReturnType<typeof createMigratedDatabase>>;
  let pool: pg.Pool;
  let ledger: Ledger;
  let connection: Connection;
  let client: Client;
  const accounts: Account[] = [];

  beforeAll(async () => {
    database = await createMigratedDatabase();
    pool = new pg.Pool({ connectionString: database.url, max: 4 });
    ledger = new Ledger(pool);
    for (let index = 0; index < ACCOUNTS; index += 1) {
      const user = await database.prisma.user.create({ data: { email: `member-${index}@example.org`, name: `member ${index}`, passwordHash: 'unused' } });
      const account = await ledger.memberAccount(user.id, user.email);
      await ledger.applyTransfer({ requestedBy: 'system:opening', idempotencyKey: `opening-${index}`, kind: 'issue', from: ISSUANCE_ACCOUNT_ID, to: account.id, amount: OPENING_BALANCE });
      accounts.push(account);
    }
    connection = await Connection.connect({ address: inject('temporalAddress') });
    client = new Client({ connection, dataConverter: testDataConverter() });
  });

  afterAll(async () => {
    await connection?.close();
    await pool?.end();
    await database?.drop();
  });

  const count = async (sql: string) => Number((await pool.query<{ n: string }>(sql)).rows[0]!.n);

  it('keeps the sum of balances, never goes below zero and applies each transfer once through a thousand concurrent transfers and two worker SIGKILLs', async () => {
    const taskQueue = uniqueTaskQueue('ledger');
    const workerEnv = { TEMPORAL_ADDRESS: inject('temporalAddress'), JARVIS_TASK_QUEUE: taskQueue, DATABASE_URL: database.url };
    const transfers = new TransferService(client, taskQueue, transferAuthorityOf(loadEnv()));
    const next = random(18);
    // Amounts up to one and a half opening balances: many transfers must be refused for lack of credits.
    const orders: TransferOrder[] = Array.from({ length: TRANSFERS }, (_, index) => {
      const from = accounts[Math.floor(next() * ACCOUNTS)]!;
      const others = accounts.filter((account) => account.id !== from.id);
      const to = others[Math.floor(next() * others.length)]!;
      return { requestedBy: from.userId!, actorEmail: from.label, idempotencyKey: `transfer-${index}`, kind: 'transfer', from: from.id, to: to.id, amount: 1 + Math.floor(next() * 1_500) };
    });

    const workers = [spawnWorkerProcess(workerEnv)];
    const kills: Date[] = [];
    const midFlight: boolean[] = [];
    try {
      await workers[0]!.ready;
      const first = orders.map((order) => transfers.transfer(order));
      const outcomes = Promise.allSettled(first);
      for (const threshold of [150, 500]) {
        await waitFor(async () => (await count('SELECT count(*) AS n FROM cooperative_transfers WHERE requested_by NOT LIKE $$system:%$$')) >= threshold, {
          message: `${threshold} transfers to be recorded`,
          timeoutMs: 180_000,
          intervalMs: 50,
        });
        workers.at(-1)!.child.kill('SIGKILL');
        kills.push(new Date());
        // Killed in the middle (transfers still waiting) at least once: a fast machine may finish them all before the second kill.
        midFlight.push((await count('SELECT count(*) AS n FROM cooperative_transfers')) < TRANSFERS + ACCOUNTS);
        // The same keys again while the killed worker's attempts are pending.
        const retried = Promise.all(orders.slice(0, 100).map((order) => transfers.transfer(order)));
        workers.push(spawnWorkerProcess(workerEnv));
        await workers.at(-1)!.ready;
        for (const result of await retried) expect(result.replayed).toBe(true);
      }
      expect(midFlight).toContain(true);
      const settled = await outcomes;
      const rejected = settled.filter((outcome) => outcome.status === 'rejected');
      expect(rejected.map((outcome) => String((outcome as PromiseRejectedResult).reason))).toEqual([]);
      const results = settled.map((outcome) => (outcome as PromiseFulfilledResult<TransferResult & { workflowId: string }>).value);

      // The kills hit transfers in flight: the first ones recorded after each kill had their activity retried by the next worker.
      const workflowOf = new Map(results.map((result) => [result.transferId, result.workflowId]));
      let retriedAfterKill = 0;
      for (const killedAt of kills) {
        // Newest first: an attempt the kill cut short is retried only after its start-to-close timeout, after the new worker's own.
        const after = await pool.query<{ id: string }>(`SELECT id FROM cooperative_transfers WHERE kind = 'transfer' AND created_at >= $1 ORDER BY created_at DESC`, [killedAt]);
        for (const { id } of after.rows) {
          if (retriedAfterKill > 0) break;
          const history = await client.workflow.getHandle(workflowOf.get(id)!).fetchHistory();
          if ((history.events ?? []).some((event) => (event.activityTaskStartedEventAttributes?.attempt ?? 1) >= 2)) retriedAfterKill += 1;
        }
      }
      expect(retriedAfterKill).toBeGreaterThan(0);

      // Every key sent once more: the same transfer answers, nothing moves.
      const again = await Promise.all(orders.map((order) => transfers.transfer(order)));
      expect(again.map((result) => [result.transferId, result.status, result.replayed])).toEqual(results.map((result) => [result.transferId, result.status, true]));

      const applied = results.filter((result) => result.status === 'applied').length;
      const refused = results.filter((result) => result.status === 'refused').length;
      expect(applied + refused).toBe(TRANSFERS);
      expect(refused).toBeGreaterThan(0);
      expect(applied).toBeGreaterThan(TRANSFERS / 3);

      // Each key applied once: one transfer row, two entries per applied transfer, one audit entry each.
      expect(await count(`SELECT count(*) AS n FROM cooperative_transfers WHERE kind = 'transfer'`)).toBe(TRANSFERS);
      expect(await count(`SELECT count(*) AS n FROM cooperative_entries e JOIN cooperative_transfers t ON t.id = e.transfer_id WHERE t.kind = 'transfer'`)).toBe(2 * applied);
      expect(await count(`SELECT count(*) AS n FROM audit_log WHERE action = 'cooperative.transfer'`)).toBe(TRANSFERS);
      const rows = await pool.query<{ id: string; status: string }>(`SELECT id, status FROM cooperative_transfers WHERE kind = 'transfer'`);
      const byId = new Map(rows.rows.map((row) => [row.id, row.status]));
      for (const result of results) expect(byId.get(result.transferId)).toBe(result.status);

      // The sum is unchanged and the issuance account still holds minus what was issued.
      const balances = await ledger.accounts(accounts.map((account) => account.id));
      expect(balances.reduce((sum, account) => sum + account.balance, 0)).toBe(ACCOUNTS * OPENING_BALANCE);
      expect((await ledger.account(ISSUANCE_ACCOUNT_ID))!.balance).toBe(-ACCOUNTS * OPENING_BALANCE);

      // No balance was ever negative: replaying every account's entries in order gives each recorded balance, all at zero or above.
      for (const account of balances) {
        const statement = await ledger.statement(account.id);
        let running = 0;
        for (const line of statement) {
          running += line.amount;
          expect(line.balanceAfter).toBe(running);
          expect(running).toBeGreaterThanOrEqual(0);
        }
        expect(running).toBe(account.balance);
      }
    } finally {
      for (const worker of workers) worker.child.kill('SIGKILL');
    }
  }, 600_000);

  it('refuses a transfer that was not signed by the API, and never lets anyone change an entry', async () => {
    const taskQueue = uniqueTaskQueue('ledger-forged');
    const worker = spawnWorkerProcess({ TEMPORAL_ADDRESS: inject('temporalAddress'), JARVIS_TASK_QUEUE: taskQueue, DATABASE_URL: database.url });
    try {
      await worker.ready;
      const [from, to] = accounts as [Account, Account];
      const before = await ledger.accounts([from.id, to.id]);
      // Someone who reaches Temporal signs with a key of their own.
      const forger = new TransferService(client, taskQueue, new TransferAuthority(Buffer.alloc(32, 7)));
      await expect(forger.transfer({ requestedBy: from.userId!, idempotencyKey: 'forged', kind: 'transfer', from: to.id, to: from.id, amount: 1 })).rejects.toThrow(/signed with key/);
      expect(await ledger.accounts([from.id, to.id])).toEqual(before);
      expect(await count(`SELECT count(*) AS n FROM audit_log WHERE action = 'cooperative.transfer.refused' AND outcome = 'denied'`)).toBe(1);

      await expect(pool.query('UPDATE cooperative_entries SET amount = amount + 1')).rejects.toThrow(/append-only/);
      await expect(pool.query('DELETE FROM cooperative_entries')).rejects.toThrow(/append-only/);
    } finally {
      worker.child.kill('SIGKILL');
    }
  }, 120_000);

  it("writes an account's statement over a time range as CSV", async () => {
    const account = accounts[0]!;
    const all = await ledger.statement(account.id);
    const csv = statementCsv(await ledger.statement(account.id, { from: new Date(all[0]!.at), to: new Date(Date.now() + 1_000) }));
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe('entry,at,transfer,kind,counterparty,memo,amount,balance_after');
    expect(lines).toHaveLength(all.length + 1);
    expect(lines[1]).toContain(`,issue,issuance,,${OPENING_BALANCE},${OPENING_BALANCE}`);
    expect(
      statementCsv(await ledger.statement(account.id, { from: new Date(Date.now() + 60_000) }))
        .trim()
        .split('\n'),
    ).toHaveLength(1);
  });
});
