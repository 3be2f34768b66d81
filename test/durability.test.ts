import { Client, Connection } from '@temporalio/client';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { processStartTime } from '../activities/shell/process-ledger.js';
import { startDevServer } from '../temporal/dev-server.js';
import { freePort } from '../config/free-port.js';
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

/** `slowSeconds`: how long step two sleeps between its two lines. */
const threeSteps = (slowSeconds: number) => `
name: three-steps
title: Three steps with a slow middle
inputs: { type: object, properties: { log: { type: string } }, required: [log] }
steps:
  - id: one
    action: shell.run
    with: { command: 'echo one >> "$1"', shell: true, args: ["\${{ inputs.log }}"] }
  - id: two
    action: shell.run
    with: { command: 'echo two-start >> "$1"; sleep ${slowSeconds}; echo two >> "$1"', shell: true, args: ["\${{ inputs.log }}"] }
    heartbeatTimeout: 2s
    retry: { maxAttempts: 3, initialInterval: 100ms }
  - id: three
    action: shell.run
    with: { command: 'echo three >> "$1"', shell: true, args: ["\${{ inputs.log }}"] }
`;

// One attempt (shell.run's default); the step writes "<its shell's pid> <its child's pid>" as it starts.
const longStep = `
name: long-step
title: A long step
inputs: { type: object, properties: { pids: { type: string } }, required: [pids] }
steps:
  - id: long
    action: shell.run
    with: { command: 'sleep 4 & echo "$$ $!" >> "$1"; wait', shell: true, args: ["\${{ inputs.pids }}"] }
    heartbeatTimeout: 2s
`;

const failingSteps = `
name: failing-steps
title: Steps that fail on their own
steps:
  - id: once
    action: shell.run
    with: { command: 'exit 3', shell: true }
    continueOnError: true
  - id: twice
    action: shell.run
    with: { command: 'exit 4', shell: true }
    retry: { maxAttempts: 2, initialInterval: 100ms }
`;

describe('durable runs', () => {
  /**
   * Starts a worker process, runs three-steps on it until step two is running,
   * lets `interrupt` stop that worker, then finishes the run on a new worker.
   */
  async function interruptWorkerDuringStepTwo(prefix: string, interrupt: (worker: ChildProcess, log: string) => Promise<void>, slowSeconds = 3) {
    const taskQueue = uniqueTaskQueue(prefix);
    const workerEnv = { TEMPORAL_ADDRESS: inject('temporalAddress'), JARVIS_TASK_QUEUE: taskQueue };
    const runs = await createRunService(taskQueue, writeManifests({ 'three-steps': threeSteps(slowSeconds) }));
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
    // Step two sleeps long enough that its orphaned process is surely ended (by the watchdog, or the next worker's ledger) before it could finish, even on a loaded machine.
    const { log, progress } = await interruptWorkerDuringStepTwo(
      'sigkill',
      async (worker) => {
        worker.kill('SIGKILL');
      },
      20,
    );
    expect(count(log, 'one')).toBe(1);
    // The killed worker's attempt of step two died with it: only the retry finished it.
    expect(count(log, 'two')).toBe(1);
    expect(count(log, 'three')).toBe(1);
    expect(progress.status).toBe('succeeded');
    expect(progress.steps.find((step) => step.id === 'two')?.attempts).toBe(2);
  });

  it("end a step's processes within a second when its worker is killed, and complete a one-attempt step on the next worker, its only attempt running", async () => {
    const taskQueue = uniqueTaskQueue('orphans');
    const workerEnv = { TEMPORAL_ADDRESS: inject('temporalAddress'), JARVIS_TASK_QUEUE: taskQueue };
    const runs = await createRunService(taskQueue, writeManifests({ 'long-step': longStep }));
    const pids = path.join(scratchDir(), 'pids');
    const first = spawnWorkerProcess(workerEnv);
    try {
      await first.ready;
      const { id } = await runs.service.startRun({ runbook: 'long-step', inputs: { pids }, environment: 'dev', startedBy: 'alice' });
      await until(() => lines(pids).length === 1, 'the step to start');
      const [shell, sleeper] = lines(pids)[0]!.split(' ').map(Number) as [number, number];
      expect(processStartTime(shell)).toBeDefined();

      first.child.kill('SIGKILL');
      await until(() => processStartTime(shell) === undefined && processStartTime(sleeper) === undefined, "the step's processes to end", 1_000);

      const second = spawnWorkerProcess(workerEnv);
      try {
        await second.ready;
        await until(() => lines(pids).length === 2, 'the retry to start');
        const running = lines(pids).flatMap((line) => line.split(' ').map(Number)).filter((pid) => processStartTime(pid) !== undefined);
        expect(running).toEqual(lines(pids)[1]!.split(' ').map(Number));
        await runs.client.workflow.getHandle(id).result();
      } finally {
        second.child.kill('SIGTERM');
      }
      const progress = (await runs.service.showRun(id)).progress!;
      expect(progress.status).toBe('succeeded');
      expect(progress.steps[0]).toMatchObject({ id: 'long', status: 'succeeded', attempts: 2 });
    } finally {
      first.child.kill('SIGKILL');
      await runs.close();
    }
  });

  it('not retry a one-attempt step that fails on its own, and retry a failing step only as often as its manifest says', async () => {
    const taskQueue = uniqueTaskQueue('own-failure');
    const worker = await startWorker(taskQueue);
    const runs = await createRunService(taskQueue, writeManifests({ 'failing-steps': failingSteps }));
    try {
      const { id } = await runs.service.startRun({ runbook: 'failing-steps', inputs: {}, environment: 'dev', startedBy: 'alice' });
      await expect(runs.client.workflow.getHandle(id).result()).rejects.toThrow();
      const progress = (await runs.service.showRun(id)).progress!;
      expect(progress.steps.find((step) => step.id === 'once')).toMatchObject({ status: 'failed', attempts: 1 });
      expect(progress.steps.find((step) => step.id === 'twice')).toMatchObject({ status: 'failed', attempts: 2 });
    } finally {
      await runs.close();
      await worker.stop();
    }
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

  it('complete a run on a worker that was started before its Temporal server, once the server is up', async () => {
    const directory = scratchDir();
    const server = { binary: inject('temporalBinary'), port: await freePort(), logFile: path.join(directory, 'temporal.log') };
    const taskQueue = uniqueTaskQueue('late-temporal');
    const worker = spawnWorkerProcess({ TEMPORAL_ADDRESS: `127.0.0.1:${server.port}`, JARVIS_TASK_QUEUE: taskQueue });
    let running: Awaited<ReturnType<typeof startDevServer>> | undefined;
    const log = path.join(directory, 'steps.log');
    try {
      await until(() => worker.output().includes('is not reachable'), 'the worker to wait for Temporal');
      // Longer than a few of its attempts: the worker keeps waiting rather than giving up.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect(worker.child.exitCode).toBeNull();

      running = await startDevServer(server);
      await worker.ready;
      const runs = await createRunService(taskQueue, writeManifests({ 'three-steps': threeSteps(3) }), running.address);
      try {
        const { id } = await runs.service.startRun({ runbook: 'three-steps', inputs: { log }, environment: 'dev', startedBy: 'alice' });
        await runs.client.workflow.getHandle(id).result();
      } finally {
        await runs.close();
      }
      expect(lines(log)).toEqual(['one', 'two-start', 'two', 'three']);
    } finally {
      worker.child.kill('SIGTERM');
      await running?.stop();
    }
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
      const runs = await createRunService(taskQueue, writeManifests({ 'three-steps': threeSteps(3) }), running.address);
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
