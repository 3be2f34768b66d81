import { Client, WorkflowFailedError } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunProgress } from '../workflows/messages.js';
import { FLAKY_STEP } from './files.js';
import { createRunService, scratchDir, startWorker, uniqueTaskQueue, writeManifests } from './harness.js';
import { waitFor } from './wait.js';

const work = scratchDir();
const marker = (name: string) => path.join(work, name);
const readLines = (file: string) => readFileSync(file, 'utf8').trim().split('\n');

const manifests = {
  flaky: `
name: flaky
title: Fails twice, then succeeds
inputs: { type: object, properties: { counter: { type: string } }, required: [counter] }
steps:${FLAKY_STEP}
`,
  gated: `
name: gated
title: Waits for an approval
inputs: { type: object, properties: { log: { type: string } }, required: [log] }
steps:
  - id: prepare
    action: shell.run
    with: { command: 'echo prepare >> "$1"', shell: true, args: ["\${{ inputs.log }}"] }
    compensate:
      - id: undo-prepare
        action: shell.run
        with: { command: 'echo undo-prepare >> "$1"', shell: true, args: ["\${{ inputs.log }}"] }
  - id: change-window
    approval: { role: approver, deadline: 3s }
  - id: apply
    action: shell.run
    with: { command: 'echo apply >> "$1"', shell: true, args: ["\${{ inputs.log }}"] }
`,
  compensating: `
name: compensating
title: Fails at the third step and undoes the first two
inputs: { type: object, properties: { log: { type: string } }, required: [log] }
steps:
  - id: first
    action: shell.run
    with: { command: 'echo first >> "$1"', shell: true, args: ["\${{ inputs.log }}"] }
    compensate:
      - id: undo-first
        action: shell.run
        with: { command: 'echo undo-first >> "$1"', shell: true, args: ["\${{ inputs.log }}"] }
  - id: second
    action: shell.run
    with: { command: 'echo second >> "$1"', shell: true, args: ["\${{ inputs.log }}"] }
    compensate:
      - id: undo-second
        action: shell.run
        with: { command: 'echo undo-second >> "$1"', shell: true, args: ["\${{ inputs.log }}"] }
  - id: broken
    action: shell.run
    with: { command: 'echo "disk quota exceeded" >&2; exit 3', shell: true }
`,
  locked: `
name: locked
title: One run per host
concurrencyKey: \${{ inputs.host }}
inputs: { type: object, properties: { host: { type: string } }, required: [host] }
steps:
  - id: hold
    sleep: 20s
`,
  cancellable: `
name: cancellable
title: A long step that can be cancelled
inputs: { type: object, properties: { log: { type: string } }, required: [log] }
steps:
  - id: prepare
    action: shell.run
    with: { command: 'echo prepare >> "$1"', shell: true, args: ["\${{ inputs.log }}"] }
    compensate:
      - id: undo-prepare
        action: shell.run
        with: { command: 'echo undo-prepare >> "$1"', shell: true, args: ["\${{ inputs.log }}"] }
  - id: long
    action: shell.run
    with: { command: 'echo long-start >> "$1"; sleep 60; echo long-end >> "$1"', shell: true, args: ["\${{ inputs.log }}"] }
    heartbeatTimeout: 2s
`,
  flow: `
name: flow
title: Parallel steps, conditions and outputs
inputs: { type: object, properties: { mode: { type: string, default: fast } } }
steps:
  - id: both
    parallel:
      - id: left
        action: core.noop
        with: { message: left }
      - id: right
        action: shell.run
        with: { command: echo, args: [right] }
  - id: only-slow
    when: \${{ inputs.mode == 'slow' }}
    action: core.noop
  - id: child
    runbook: child
    with: { greeting: from parent }
  - id: join
    action: core.noop
    with: { message: "\${{ steps.left.output.message }}+\${{ steps.right.output.stdout }}+\${{ steps.child.output.echo.message }}" }
`,
  child: `
name: child
title: A child run
inputs: { type: object, properties: { greeting: { type: string } } }
steps:
  - id: echo
    action: core.noop
    with: { message: "\${{ inputs.greeting }}" }
`,
};

let worker: Awaited<ReturnType<typeof startWorker>>;
let runs: Awaited<ReturnType<typeof createRunService>>;

beforeAll(async () => {
  const taskQueue = uniqueTaskQueue('engine');
  worker = await startWorker(taskQueue);
  runs = await createRunService(taskQueue, writeManifests(manifests));
});

afterAll(async () => {
  await worker?.stop();
  await runs?.close();
});

async function failureOf(id: string): Promise<{ message: string; type?: string; progress: RunProgress }> {
  const error = await runs.client.workflow.getHandle(id).result().then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const cause = (error as WorkflowFailedError).cause as { message: string; type?: string; details?: Array<{ progress: RunProgress }> };
  return { message: cause.message, type: cause.type, progress: cause.details![0]!.progress };
}

async function waitForStatus(id: string, stepId: string, status: string): Promise<void> {
  for (let tries = 0; tries < 100; tries += 1) {
    const details = await runs.service.showRun(id);
    if (details.progress?.steps.find((step) => step.id === stepId)?.status === status) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`step ${stepId} of ${id} never became ${status}`);
}

describe('the interpreter workflow', () => {
  it('completes a run whose step fails twice and then succeeds, showing three attempts', async () => {
    const { id } = await runs.service.startRun({ runbook: 'flaky', inputs: { counter: marker('flaky-count') }, environment: 'dev', startedBy: 'alice' });
    await runs.client.workflow.getHandle(id).result();
    const details = await runs.service.showRun(id);
    expect(details.status).toBe('COMPLETED');
    expect(details.progress?.status).toBe('succeeded');
    expect(details.progress?.steps[0]).toMatchObject({ id: 'flaky', status: 'succeeded', attempts: 3 });
    expect(readFileSync(marker('flaky-count'), 'utf8').trim()).toBe('3');
  });

  it("refuses the starter's own approval with a reason, and continues on an approver's", async () => {
    const log = marker('gated-approved.log');
    const { id } = await runs.service.startRun({ runbook: 'gated', inputs: { log }, environment: 'prod', startedBy: 'alice' });
    await waitForStatus(id, 'change-window', 'waiting');

    await expect(runs.service.approveStep(id, 'change-window', 'alice', ['approver'])).rejects.toThrow(/alice started this run and cannot approve it/);
    await expect(runs.service.approveStep(id, 'change-window', 'carol', ['viewer'])).rejects.toThrow(/carol lacks the approver role in prod/);
    const answer = await runs.service.approveStep(id, 'change-window', 'bob', ['approver'], 'go ahead');
    expect(answer).toMatchObject({ decision: 'approved', approvals: 1, required: 1 });

    await runs.client.workflow.getHandle(id).result();
    expect(readLines(log)).toEqual(['prepare', 'apply']);
    const approval = (await runs.service.showRun(id)).progress?.steps.find((step) => step.id === 'change-window')?.approval;
    expect(approval?.approvedBy).toMatchObject([{ user: 'bob', comment: 'go ahead' }]);
  });

  it('ends a run rejected and compensates when the approval deadline passes without a decision', async () => {
    const log = marker('gated-timeout.log');
    const { id } = await runs.service.startRun({ runbook: 'gated', inputs: { log }, environment: 'prod', startedBy: 'alice' });
    const failure = await failureOf(id);
    expect(failure.type).toBe('ApprovalRejected');
    expect(failure.message).toMatch(/no decision before the approval deadline/);
    expect(failure.progress.status).toBe('rejected');
    expect(failure.progress.steps.find((step) => step.id === 'apply')?.status).toBe('pending');
    expect(readLines(log)).toEqual(['prepare', 'undo-prepare']);
  });

  it('ends a run rejected with the reason when an approver rejects it', async () => {
    const log = marker('gated-rejected.log');
    const { id } = await runs.service.startRun({ runbook: 'gated', inputs: { log }, environment: 'prod', startedBy: 'alice' });
    await waitForStatus(id, 'change-window', 'waiting');
    await expect(runs.service.rejectStep(id, 'change-window', 'bob', ['approver'], '  ')).rejects.toThrow(/needs a reason/);
    await runs.service.rejectStep(id, 'change-window', 'bob', ['approver'], 'not during the sale');
    const failure = await failureOf(id);
    expect(failure.message).toContain('rejected by bob: not during the sale');
    expect(readLines(log)).toEqual(['prepare', 'undo-prepare']);
  });

  it('runs compensations in reverse order and fails with the original error', async () => {
    const log = marker('compensating.log');
    const { id } = await runs.service.startRun({ runbook: 'compensating', inputs: { log }, environment: 'dev', startedBy: 'alice' });
    const failure = await failureOf(id);
    expect(failure.message).toBe('step "broken" failed: command exited with code 3: disk quota exceeded');
    expect(failure.type).toBe('CommandFailed');
    expect(readLines(log)).toEqual(['first', 'second', 'undo-second', 'undo-first']);
    expect(failure.progress.compensations.map((entry) => [entry.id, entry.status])).toEqual([
      ['undo-second', 'succeeded'],
      ['undo-first', 'succeeded'],
    ]);
  });

  it('refuses a second start on a busy concurrency key, naming the run that holds it', async () => {
    const first = await runs.service.startRun({ runbook: 'locked', inputs: { host: 'db-1' }, environment: 'dev', startedBy: 'alice' });
    expect(first.id).toBe('locked@dev:db-1');
    await expect(runs.service.startRun({ runbook: 'locked', inputs: { host: 'db-1' }, environment: 'dev', startedBy: 'bob' })).rejects.toThrow(
      /already running for concurrency key "db-1": run locked@dev:db-1 .*started by alice/,
    );
    const other = await runs.service.startRun({ runbook: 'locked', inputs: { host: 'db-2' }, environment: 'dev', startedBy: 'bob' });
    await runs.service.cancelRun(first.id);
    await runs.service.cancelRun(other.id);
  });

  it('cancels a run: the running command is killed and completed steps are compensated', async () => {
    const log = marker('cancellable.log');
    const { id } = await runs.service.startRun({ runbook: 'cancellable', inputs: { log }, environment: 'dev', startedBy: 'alice' });
    await waitForStatus(id, 'long', 'running');
    await waitFor(() => readFileSync(log, 'utf8').includes('long-start'), { message: 'the long step to print long-start', timeoutMs: 5_000 });
    const cancelledAt = Date.now();
    await runs.service.cancelRun(id);
    await expect(runs.client.workflow.getHandle(id).result()).rejects.toThrow();
    expect(Date.now() - cancelledAt).toBeLessThan(15_000);
    const details = await runs.service.showRun(id);
    expect(details.status).toBe('CANCELLED');
    expect(details.progress?.steps.find((step) => step.id === 'long')?.status).toBe('cancelled');
    expect(readLines(log)).toEqual(['prepare', 'long-start', 'undo-prepare']);
  });

  it('runs parallel groups and child runbooks, skips steps whose condition is false and passes outputs on', async () => {
    const { id } = await runs.service.startRun({ runbook: 'flow', inputs: {}, environment: 'dev', startedBy: 'alice' });
    const result = (await runs.client.workflow.getHandle(id).result()) as { outputs: Record<string, { message?: string }> };
    expect(result.outputs.join?.message).toBe('left+right+from parent');
    const progress = (await runs.service.showRun(id)).progress!;
    expect(progress.steps.find((step) => step.id === 'child')?.childRunId).toBe(`${id}--child`);
    expect(progress.steps.map((step) => [step.id, step.status])).toEqual([
      ['both', 'succeeded'],
      ['left', 'succeeded'],
      ['right', 'succeeded'],
      ['only-slow', 'skipped'],
      ['child', 'succeeded'],
      ['join', 'succeeded'],
    ]);
  });

  it('keeps inputs and outputs out of the history in clear: payloads are encrypted', async () => {
    const secret = 'hunter2-very-secret-token';
    const { id } = await runs.service.startRun({ runbook: 'flow', inputs: { mode: secret }, environment: 'dev', startedBy: 'alice' });
    await runs.client.workflow.getHandle(id).result();
    const raw = new Client({ connection: runs.client.connection });
    const history = historyToJSON(await raw.workflow.getHandle(id).fetchHistory());
    const payloadBytes = [...history.matchAll(/"data":\s*"([^"]+)"/g)].map((match) => Buffer.from(match[1]!, 'base64').toString('latin1')).join('\n');
    expect(payloadBytes.length).toBeGreaterThan(100);
    expect(payloadBytes).not.toContain(secret);
    expect(payloadBytes).not.toContain('left+right');
    expect(history).toContain(Buffer.from('binary/encrypted').toString('base64'));
    // With the installation's key, the same history reads back.
    expect((await runs.service.showRun(id)).progress?.status).toBe('succeeded');
  });

  it('refuses inputs that break the runbook input schema before any workflow starts', async () => {
    const before = await runs.service.listRuns({ runbook: 'flaky' });
    await expect(runs.service.startRun({ runbook: 'flaky', inputs: { counter: 42 }, environment: 'dev', startedBy: 'alice' })).rejects.toThrow(
      /inputs.counter: must be string/,
    );
    await expect(runs.service.startRun({ runbook: 'flaky', inputs: {}, environment: 'dev', startedBy: 'alice' })).rejects.toThrow(/inputs.counter: required/);
    await expect(runs.service.startRun({ runbook: 'flaky', inputs: { counter: 'x' }, environment: 'moon', startedBy: 'alice' })).rejects.toThrow(
      /cannot run in "moon"/,
    );
    expect(await runs.service.listRuns({ runbook: 'flaky' })).toHaveLength(before.length);
  });
});
