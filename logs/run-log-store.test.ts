import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../db/migrator.js';
import { reportIdleConnectionError } from '../db/pool-errors.js';
import { createServerDatabase } from '../test/databases.js';
import { RunLogStore, TRUNCATION_MARKER } from './run-log-store.js';
import { DatabaseLineSink, REDACTED } from './database-line-sink.js';

let database: Awaited<ReturnType<typeof createServerDatabase>>;
let pool: pg.Pool;

beforeAll(async () => {
  database = await createServerDatabase();
  await migrate(database.url);
  pool = new pg.Pool({ connectionString: database.url });
  pool.on('error', reportIdleConnectionError);
});

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

const line = (text: string) => ({ stepId: 'step', attempt: 1, stream: 'stdout', at: new Date().toISOString(), text });

describe('the run log store', () => {
  it('caps a run’s log and ends it with a visible truncation marker', async () => {
    const store = new RunLogStore(pool, 5);
    await store.append('capped', [line('1'), line('2'), line('3')]);
    await store.append('capped', [line('4'), line('5'), line('6'), line('7')]);
    await store.append('capped', [line('8')]);
    const lines = await store.linesAfter('capped', 0);
    expect(lines.map((entry) => [entry.seq, entry.text])).toEqual([
      [1, '1'],
      [2, '2'],
      [3, '3'],
      [4, '4'],
      [5, TRUNCATION_MARKER],
    ]);
  });

  it('numbers lines without gaps when many writers append to one run at once', async () => {
    const store = new RunLogStore(pool);
    await Promise.all(Array.from({ length: 20 }, (_, writer) => store.append('busy', Array.from({ length: 10 }, (_, index) => line(`${writer}-${index}`)))));
    const lines = await store.linesAfter('busy', 0);
    expect(lines.map((entry) => entry.seq)).toEqual(Array.from({ length: 200 }, (_, index) => index + 1));
  });

  it('redacts secret input values before a line is stored', async () => {
    const sink = new DatabaseLineSink(new RunLogStore(pool));
    const step = { runId: 'secretive', stepId: 'login', runbook: 'r', environment: 'dev', secrets: ['pa55-w0rd'] };
    sink.write(step, 1, { stream: 'stdout', text: 'curl -u admin:pa55-w0rd https://x', at: new Date().toISOString() });
    await sink.flush();
    expect((await new RunLogStore(pool).linesAfter('secretive', 0)).map((entry) => entry.text)).toEqual([`curl -u admin:${REDACTED} https://x`]);
  });
});
