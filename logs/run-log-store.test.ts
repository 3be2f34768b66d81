import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useMigratedDatabase } from '../test/databases.js';
import { REDACTED } from '../manifest/redact.js';
import { DatabaseLineSink } from './database-line-sink.js';
import { LISTENER_APPLICATION_NAME, RunLogListener } from './run-log-listener.js';
import { RunLogStore, TRUNCATION_MARKER } from './run-log-store.js';

const database = useMigratedDatabase();

const line = (text: string) => ({ stepId: 'step', attempt: 1, stream: 'stdout', at: new Date().toISOString(), text });

describe('the run log store', () => {
  it('caps a run’s log and ends it with a visible truncation marker', async () => {
    const store = new RunLogStore(database.pool, 5);
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
    const store = new RunLogStore(database.pool);
    await Promise.all(Array.from({ length: 20 }, (_, writer) => store.append('busy', Array.from({ length: 10 }, (_, index) => line(`${writer}-${index}`)))));
    const lines = await store.linesAfter('busy', 0);
    expect(lines.map((entry) => entry.seq)).toEqual(Array.from({ length: 200 }, (_, index) => index + 1));
  });

  it('stores a batch once when it is appended again after its answer was lost', async () => {
    const store = new RunLogStore(database.pool);
    const batch = randomUUID();
    await store.append('retried', [line('1'), line('2')], batch);
    await store.append('retried', [line('1'), line('2')], batch);
    await store.append('retried', [line('3')], randomUUID());
    expect((await store.linesAfter('retried', 0)).map((entry) => [entry.seq, entry.text])).toEqual([
      [1, '1'],
      [2, '2'],
      [3, '3'],
    ]);
  });

  it('redacts secret input values before a line is stored', async () => {
    const sink = new DatabaseLineSink(new RunLogStore(database.pool));
    const step = { runId: 'secretive', stepId: 'login', runbook: 'r', environment: 'dev', secrets: ['pa55-w0rd'] };
    sink.write(step, 1, { stream: 'stdout', text: 'curl -u admin:pa55-w0rd https://x', at: new Date().toISOString() });
    await sink.flush();
    expect((await new RunLogStore(database.pool).linesAfter('secretive', 0)).map((entry) => entry.text)).toEqual([`curl -u admin:${REDACTED} https://x`]);
  });

  it('keeps announcing new lines after the database drops the listener’s connection', async () => {
    const listener = new RunLogListener(database.url);
    await listener.start();
    try {
      const store = new RunLogStore(database.pool);
      const calls: Array<number | undefined> = [];
      listener.subscribe('dropped', (lastSeq) => calls.push(lastSeq));
      await store.append('dropped', [line('before')]);
      await expect.poll(() => calls, { timeout: 5_000 }).toContain(1);
      // What a database restart or failover does to the LISTEN connection.
      const { rowCount } = await database.pool.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()', [
        LISTENER_APPLICATION_NAME,
      ]);
      expect(rowCount).toBe(1);
      await store.append('dropped', [line('while away')]);
      // After reconnecting, subscribers are told to catch up, and later lines are announced again.
      await expect.poll(() => listener.reconnects, { timeout: 10_000 }).toBe(1);
      expect(calls).toContain(undefined);
      await store.append('dropped', [line('after')]);
      await expect.poll(() => calls, { timeout: 5_000 }).toContain(3);
    } finally {
      await listener.stop();
    }
  });
});

