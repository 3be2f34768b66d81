import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StepContext } from '../activities/action.js';
import { migrate } from '../db/migrator.js';
import { reportIdleConnectionError } from '../db/pool-errors.js';
import { DatabaseLineSink, LogStoreUnavailableError } from '../logs/database-line-sink.js';
import { RunLogStore } from '../logs/run-log-store.js';
import { createRunService, startWorker, uniqueTaskQueue, writeManifests } from './harness.js';
import { startThrowawayPostgres, type ThrowawayPostgres } from './throwaway-postgres.js';

// A step that prints 300 numbered lines over about four seconds and must heartbeat every two.
const printer = `
name: printer
title: Prints numbered lines
steps:
  - id: print
    action: shell.run
    heartbeatTimeout: 2s
    with:
      command: 'for i in $(seq 1 300); do echo "line $i"; sleep 0.012; done'
      shell: true
`;

let postgres: ThrowawayPostgres;
let pool: pg.Pool;
let store: RunLogStore;

beforeAll(async () => {
  postgres = await startThrowawayPostgres();
  await migrate(postgres.url);
  pool = new pg.Pool({ connectionString: postgres.url, max: 4 });
  pool.on('error', reportIdleConnectionError);
  store = new RunLogStore(pool);
});

afterAll(async () => {
  await pool?.end();
  await postgres?.remove();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const numbered = (prefix: string, count: number) => Array.from({ length: count }, (_, index) => `${prefix} ${index + 1}`);
const stepOf = (runId: string): StepContext => ({ runId, stepId: 'step', runbook: 'r', environment: 'dev' });
const stdout = (text: string) => ({ stream: 'stdout' as const, text, at: new Date().toISOString() });
const quietSink = (options: ConstructorParameters<typeof DatabaseLineSink>[1] = {}) =>
  new DatabaseLineSink(store, { retry: { initialMs: 50, maxMs: 200 }, onError: () => {}, ...options });

describe('durable run logs', () => {
  it('store every line of a step that printed while the database was down, once and in order, before the step succeeds', async () => {
    const errors: unknown[] = [];
    const taskQueue = uniqueTaskQueue('log-durability');
    const worker = await startWorker(taskQueue, undefined, { lineSink: new DatabaseLineSink(store, { onError: (error) => errors.push(error) }) });
    const runs = await createRunService(taskQueue, writeManifests({ printer }));
    try {
      const { id } = await runs.service.startRun({ runbook: 'printer', inputs: {}, environment: 'dev', startedBy: 'alice' });
      await expect.poll(async () => (await store.linesAfter(id, 0)).length, { timeout: 30_000, interval: 20 }).toBeGreaterThan(0);
      // Down for longer than the step has left to print: its final flush has to wait, heartbeating, for the database.
      const stoppedAt = Date.now();
      await postgres.stop();
      await sleep(5_000);
      await postgres.start();
      const restartedAt = Date.now();
      await runs.client.workflow.getHandle(id).result();

      const details = await runs.service.showRun(id);
      expect(details.progress?.steps.map((step) => [step.status, step.attempts])).toEqual([['succeeded', 1]]);
      const lines = await store.linesAfter(id, 0);
      expect(lines.map((line) => line.seq)).toEqual(lines.map((_, index) => index + 1));
      expect(lines.filter((line) => line.stepId === 'print' && line.attempt === 1 && line.stream === 'stdout').map((line) => line.text)).toEqual(numbered('line', 300));
      // The outage fell inside the step: lines printed while the database was down were kept and stored later.
      expect(lines.filter((line) => Date.parse(line.at) > stoppedAt && Date.parse(line.at) < restartedAt).length).toBeGreaterThan(10);
      expect(errors.length).toBeGreaterThan(0);
    } finally {
      await worker.stop();
      await runs.close();
    }
  });

  it('let a flush give up past its deadline, heartbeating while it waits, and store the kept lines once the database is back', async () => {
    const sink = quietSink();
    let beats = 0;
    await postgres.stop();
    try {
      for (const text of numbered('kept', 20)) sink.write(stepOf('deadline'), 1, stdout(text));
      await expect(sink.flush({ heartbeat: () => (beats += 1), deadline: Date.now() + 2_500 })).rejects.toBeInstanceOf(LogStoreUnavailableError);
      expect(beats).toBeGreaterThanOrEqual(2);
    } finally {
      await postgres.start();
    }
    await sink.flush();
    expect((await store.linesAfter('deadline', 0)).map((line) => [line.seq, line.text])).toEqual(numbered('kept', 20).map((text, index) => [index + 1, text]));
  });

  it('record in the run’s log exactly how many lines were dropped when the buffer was full, and why', async () => {
    const sink = quietSink({ maxBufferedLines: 5 });
    await postgres.stop();
    try {
      for (const text of numbered('held', 12)) sink.write(stepOf('bounded'), 1, stdout(text));
    } finally {
      await postgres.start();
    }
    await sink.flush();
    sink.write(stepOf('bounded'), 1, stdout('after the outage'));
    await sink.flush();
    const lines = await store.linesAfter('bounded', 0);
    expect(lines.map((line) => line.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(lines.map((line) => line.text)).toEqual([
      ...numbered('held', 5),
      '[jarvis] 7 log lines were dropped: the run log database did not take lines in time and the worker already held 5 unstored lines',
      'after the outage',
    ]);
    expect(lines[5]?.stream).toBe('system');
  });
});
