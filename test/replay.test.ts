import { DeterminismViolationError } from '@temporalio/workflow';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { PROJECT_ROOT } from '../config/env.js';
import { replayHistory } from '../temporal/replay-history.js';
import { bundleWorkflows } from '../temporal/worker.js';
import { recordedHistoriesDataConverter } from './history-key.js';

const historiesDir = path.join(PROJECT_ROOT, 'test', 'histories');
const index = JSON.parse(readFileSync(path.join(historiesDir, 'index.json'), 'utf8')) as Array<{ file: string; workflowId: string }>;
const histories = index.map(({ file, workflowId }) => ({
  name: file,
  workflowId,
  history: JSON.parse(readFileSync(path.join(historiesDir, file), 'utf8')) as unknown,
}));

/** A copy of the workflow code with one deliberate non-deterministic change: a timer before the first step. */
async function bundleMutatedWorkflows() {
  const root = path.join(PROJECT_ROOT, '.data', 'test', `mutant-${process.pid}`);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  for (const folder of ['workflows', 'manifest']) cpSync(path.join(PROJECT_ROOT, folder), path.join(root, folder), { recursive: true });
  const interpreter = path.join(root, 'workflows', 'runbook-interpreter.ts');
  const source = readFileSync(interpreter, 'utf8');
  const mutated = source.replace('await this.runSequence(this.input.runbook.steps);', 'await sleep(1);\n      await this.runSequence(this.input.runbook.steps);');
  expect(mutated).not.toBe(source);
  writeFileSync(interpreter, mutated);
  try {
    return await bundleWorkflows(path.join(root, 'workflows', 'index.ts'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe('replay of recorded histories', () => {
  it('has every recorded history listed in the index', () => {
    const files = readdirSync(historiesDir).filter((name) => name !== 'index.json');
    expect(histories.map((entry) => entry.name).sort()).toEqual(files.sort());
    expect(files).toEqual(expect.arrayContaining(['flow-approved.json', 'compensation-failed.json']));
  });

  it.each(histories)('replays $name cleanly against the current workflow code', async ({ history, workflowId }) => {
    await expect(replayHistory(history as never, { codePath: inject('workflowBundlePath') }, recordedHistoriesDataConverter(), workflowId)).resolves.toBeUndefined();
  });

  it('fails when the workflow code changes non-deterministically', async () => {
    const mutant = await bundleMutatedWorkflows();
    const [first] = histories;
    await expect(replayHistory(first!.history as never, mutant, recordedHistoriesDataConverter(), first!.workflowId)).rejects.toBeInstanceOf(DeterminismViolationError);
  });
});
