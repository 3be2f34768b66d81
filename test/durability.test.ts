import { Client, Connection } from '@temporalio/client';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { startDevServer } from '../temporal/dev-server.js';
import { freePort } from '../temporal/free-port.js';
import { createRunService, scratchDir, startWorker, testDataConverter, uniqueTaskQueue, writeManifests } from './harness.js';
import { spawnWorkerProcess } from './processes.js';

const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : []);
const count = (file: string, text: string) => lines(file).filter((line) => line === text).length;

async function until(predicate: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const threeSteps = `
name: three-steps
title: Three steps with a slow middle
inputs: { type: object, properties: { log: { type: string } }, required: [log] }
steps:
  - id: one
    action: shell.run
    with: { command: 'echo one >> "$1"', shell: true, args: ["\${{ inputs.log }}"] }
  - id: two
    action: shell.run
    with: { command: 'echo two-start >> "$1"; sleep 3; echo two >> "$1"', shell: true, args: ["\${{ inputs.log }}"] }
    heartbeatTimeout: 2s
    retry: { maxAttempts: 3, initialInterval: 100ms }
  - id: three
    action: shell.run
    with: { command: 'echo three >> "$1"', shell: true, args: ["\${{ inputs.log }}"] }
`;

describe('durable runs', () => {
  /**
   * Starts a worker process, runs three-steps on it until step two is running,
   * lets `interrupt` stop that worker, then finishes the run on a new worker.
   */
  async function interruptWorkerDuringStepTwo(prefix: string, interrupt: (worker: ChildProcess, log: string) => Promise<void>) {
    const taskQueue = uniqueTaskQueue(prefix);
    const workerEnv = { TEMPORAL_ADDRESS: inject('temporalAddress'), JARVIS_TASK_QUEUE: taskQueue };
    const runs = await createRunService(taskQueue, writeManifests({ 'three-steps': threeSteps }));
    const log = path.join(scratchDir(), 'steps.log');
    const first = spawnWorkerProcess(workerEnv);
    try {
      await first.ready;
      const { id } = await runs.service.startRun({ runbook: 'three-steps', inputs: { log }, environment: 'dev', startedBy: 'alice' });
      await until(() => count(log, 'two-start') === 1, 'step two to start');
      await interrupt(first.child, log);
      const second = spawnWorkerProcess(workerEnv);
      try {
        await second.ready;
        await runs.client.workflow.getHandle(id).result();
      } finally {
        second.child.kill('SIGTERM');
      }
      return { log, progress: (await runs.service.showRun(id)).progress! };
    } finally {
      first.child.kill('SIGKILL');
      await runs.close();
    }
  }

  it('complete after the worker is killed mid-run, without running a completed step twice', async () => {
    const { log, progress } = await interruptWorkerDuringStepTwo('sigkill', async (worker) => {
      worker.kill('SIGKILL');
    });
    expect(count(log, 'one')).toBe(1);
    expect(count(log, 'three')).toBe(1);
    expect(progress.status).toBe('succeeded');
    expect(progress.steps.find((step) => step.id === 'two')?.attempts).toBe(2);
  });

  it('let a running step finish when the worker is stopped with SIGTERM', async () => {
    const { log, progress } = await interruptWorkerDuringStepTwo('sigterm', async (worker, stepLog) => {
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.kill('SIGTERM');
      await exited;
      // The step finished inside the grace time, before the worker exited.
      expect(count(stepLog, 'two')).toBe(1);
    });
    expect(lines(log)).toEqual(['one', 'two-start', 'two', 'three']);
    expect(progress.steps.find((step) => step.id === 'two')?.attempts).toBe(1);
  });

  it('complete after the Temporal server restarts on the same database mid-run', async () => {
    const binary = inject('temporalBinary');
    const directory = scratchDir();
    const server = { binary, port: await freePort(), dbFile: path.join(directory, 'temporal.db'), logFile: path.join(directory, 'temporal.log') };
    let running = await startDevServer(server);
    const taskQueue = uniqueTaskQueue('restart');
    const worker = await startWorker(taskQueue, running.address);
    const connection = await Connection.connect({ address: running.address });
    const client = new Client({ connection, dataConverter: testDataConverter() });
    const log = path.join(directory, 'steps.log');
    try {
      const runs = await createRunService(taskQueue, writeManifests({ 'three-steps': threeSteps }), running.address);
      const { id } = await runs.service.startRun({ runbook: 'three-steps', inputs: { log }, environment: 'dev', startedBy: 'alice' });
      await runs.close();
      await until(() => count(log, 'one') === 1, 'step one to run');
      running.process.kill('SIGKILL');
      await new Promise((resolve) => running.process.once('exit', resolve));
      running = await startDevServer(server);

      await client.workflow.getHandle(id).result();
      expect(count(log, 'one')).toBe(1);
      expect(count(log, 'three')).toBe(1);
    } finally {
      await worker.stop();
      await connection.close();
      await running.stop();
    }
  });
});
