// The benchmark's workflow bundle: the real interpreter, and the smallest
// hand-written workflow that calls the same three no-op activities.
import { proxyActivities } from '@temporalio/workflow';
import type { ActionActivity } from '../activities/index.js';

export { runbookInterpreter } from '../workflows/runbook-interpreter.js';

const activities = proxyActivities<Record<'core.noop', ActionActivity>>({
  startToCloseTimeout: 30_000,
  retry: { maximumAttempts: 3 },
});
const noop = activities['core.noop'];

export async function handwrittenThreeSteps(): Promise<void> {
  const step = { runId: 'bench', stepId: 'step', runbook: 'bench', environment: 'bench' };
  await noop({ message: 'one' }, step);
  await noop({ message: 'two' }, step);
  await noop({ message: 'three' }, step);
}
