// The embedded default as `npm start` opens it, driven by several pg pools at
// once the way the API, the worker's stores and the log listener drive it:
// extended-protocol queries of different shapes, transactions that roll back,
// named prepared statements. PGlite is one backend behind the socket, so any
// interleaving of two connections' messages shows up here as a wrong answer
// or an error.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type OpenedDatabase } from './database.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';
import { reportIdleConnectionError } from './pool-errors.js';

let database: OpenedDatabase;
const pools: pg.Pool[] = [];

function pool(max: number): pg.Pool {
  const created = new pg.Pool({ connectionString: database.url, max });
  created.on('error', reportIdleConnectionError);
  pools.push(created);
  return created;
}

beforeAll(async () => {
  database = await openDatabase({ dataDir: mkdtempSync(path.join(os.tmpdir(), 'jarvis-embedded-')) });
  const setup = new pg.Client({ connectionString: database.url });
  await setup.connect();
  await setup.query('CREATE TABLE concurrency_probe (id serial PRIMARY KEY, worker int NOT NULL, n int NOT NULL)');
  await setup.end();
});

afterAll(async () => {
  await Promise.all(pools.map((created) => created.end()));
  await database?.close();
});

async function parameterised(client: pg.Pool, worker: number, n: number) {
  const one = await client.query<{ sum: number }>('SELECT $1::int + 0 AS sum', [n]);
  expect(one.rows).toEqual([{ sum: n }]);
  const three = await client.query<{ text: string }>('SELECT $1::text || $2::text || $3::text AS text', [`w${worker}`, '-', `${n}`]);
  expect(three.rows).toEqual([{ text: `w${worker}-${n}` }]);
  const none = await client.query<{ answer: number }>('SELECT 42 AS answer');
  expect(none.rows).toEqual([{ answer: 42 }]);
}

async function rolledBackTransaction(client: pg.Pool, worker: number, n: number) {
  const connection = await client.connect();
  try {
    await connection.query('BEGIN');
    await connection.query('INSERT INTO concurrency_probe (worker, n) VALUES ($1, $2)', [worker, n]);
    // Gives other connections a chance to run while this one is inside its transaction.
    await new Promise((resolve) => setTimeout(resolve, 2));
    const inside = await connection.query<{ count: string }>('SELECT count(*) FROM concurrency_probe WHERE worker = $1 AND n = $2', [worker, n]);
    expect(inside.rows[0]?.count).toBe('1');
    await connection.query('ROLLBACK');
  } finally {
    connection.release();
  }
}

async function preparedStatement(client: pg.Pool, worker: number, n: number) {
  // The same name on every connection, as a shared query module would use it.
  const result = await client.query<{ worker: number; doubled: number }>({
    name: 'probe-doubled',
    text: 'SELECT $1::int AS worker, $2::int * 2 AS doubled',
    values: [worker, n],
  });
  expect(result.rows).toEqual([{ worker, doubled: n * 2 }]);
}

async function committedTransaction(client: pg.Pool, worker: number, n: number) {
  const connection = await client.connect();
  try {
    await connection.query('BEGIN');
    await connection.query('INSERT INTO concurrency_probe (worker, n) VALUES ($1, $2)', [worker, -n]);
    await connection.query('COMMIT');
  } finally {
    connection.release();
  }
}

async function connected(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

describe('the embedded default database under concurrent connections', () => {
  it('refuses a local client without its password: an action process cannot reach the database behind the API', async () => {
    const url = new URL(database.url);
    for (const password of ['', 'guessed-password']) {
      url.password = password;
      const intruder = new pg.Client({ connectionString: url.toString() });
      await expect(intruder.connect()).rejects.toThrow(/password/);
      await intruder.end().catch(() => undefined);
    }
    const owner = new pg.Client({ connectionString: database.url });
    await owner.connect();
    expect((await owner.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await owner.end();
  });

  it('answers every connection correctly and keeps each transaction to itself', async () => {
    const clients = [pool(4), pool(4), pool(3), pool(2)];
    const workers = 12;
    const rounds = 15;
    await Promise.all(
      Array.from({ length: workers }, async (_, worker) => {
        const client = clients[worker % clients.length]!;
        for (let n = 1; n <= rounds; n++) {
          await parameterised(client, worker, n);
          await rolledBackTransaction(client, worker, n);
          await preparedStatement(client, worker, n);
          await committedTransaction(client, worker, n);
        }
      }),
    );

    const reader = pool(1);
    const stored = await reader.query<{ worker: number; n: number }>('SELECT worker, n FROM concurrency_probe ORDER BY worker, n DESC');
    // Only the committed rows (negative n) are left; every rolled-back insert is gone.
    const expected = Array.from({ length: workers }, (_, worker) => Array.from({ length: rounds }, (_, i) => ({ worker, n: -(i + 1) }))).flat();
    expect(stored.rows).toEqual(expected);
  });

  it('rolls back what a closed connection left open and forgets its prepared statements', async () => {
    const leaver = await connected(database.url);
    await leaver.query('CREATE TABLE left_open (n int)');
    await leaver.query({ name: 'count-left', text: 'SELECT count(*) FROM left_open WHERE n > $1', values: [0] });
    await leaver.query('BEGIN');
    await leaver.query('INSERT INTO left_open VALUES (1)');
    await leaver.end();

    const after = await connected(database.url);
    expect((await after.query('SELECT count(*)::int AS n FROM left_open')).rows).toEqual([{ n: 0 }]);
    expect((await after.query(`SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE '%count-left'`)).rows).toEqual([{ n: 0 }]);
    // The same name again on another connection.
    expect((await after.query({ name: 'count-left', text: 'SELECT count(*)::int AS n FROM left_open WHERE n > $1', values: [0] })).rows).toEqual([{ n: 0 }]);
    await after.end();
  });

  it('hands a notification to the connection that listens, whichever connection raised it', async () => {
    const listener = await connected(database.url);
    const notifier = await connected(database.url);
    const heard: string[] = [];
    const misdelivered: string[] = [];
    listener.on('notification', (message) => heard.push(`${message.channel}:${message.payload}`));
    notifier.on('notification', (message) => misdelivered.push(`${message.channel}:${message.payload}`));
    await listener.query('LISTEN run_log');

    await notifier.query(`SELECT pg_notify('run_log', '7:run-1')`);
    await notifier.query('BEGIN');
    await notifier.query(`NOTIFY run_log, '8:run-1'`);
    await notifier.query('COMMIT');
    await listener.query('SELECT 1');

    expect(heard).toEqual(['run_log:7:run-1', 'run_log:8:run-1']);
    expect(misdelivered).toEqual([]);
    await listener.end();
    await notifier.end();
  });
});

describe('the embedded database when a connection keeps it', () => {
  // Two servers: one that closes idle holders quickly, one that refuses waiters quickly.
  let shortHold: EmbeddedPostgres;
  let shortWait: EmbeddedPostgres;
  beforeAll(async () => {
    shortHold = await startEmbeddedPostgres({ holdTimeoutMs: 1_500, waitTimeoutMs: 10_000 });
    shortWait = await startEmbeddedPostgres({ holdTimeoutMs: 10_000, waitTimeoutMs: 300 });
  });
  afterAll(async () => {
    await shortHold?.stop();
    await shortWait?.stop();
  });

  it('closes a connection idle in its transaction past the bound, rolls it back and lets the others proceed', async () => {
    const url = shortHold.url;
    const holder = await connected(url);
    await holder.query('CREATE TABLE held (n int)');
    await holder.query('BEGIN');
    await holder.query('INSERT INTO held VALUES (1)');
    const other = await connected(url);

    expect((await other.query('SELECT count(*)::int AS n FROM held')).rows).toEqual([{ n: 0 }]);
    await expect(holder.query('COMMIT')).rejects.toThrow(/not queryable|terminat/);
    await other.end();
  });

  it('refuses a connection that waited past the bound, naming the connection that holds the database', async () => {
    const url = shortWait.url;
    const holder = await connected(url);
    await holder.query('BEGIN');
    const waiter = new pg.Client({ connectionString: url });
    waiter.on('error', () => undefined);

    await expect(waiter.connect()).rejects.toThrow(/the embedded database stayed busy for 0\.3 s: connection #\d+ has held it for .* \(idle in a transaction\)/);
    await holder.query('ROLLBACK');
    await holder.end();
  });
});
