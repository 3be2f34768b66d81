// bench:fleet's baseline: the smallest hand-written workflow that runs the
// no-op action once on each node's own task queue, at most `concurrency` at a
// time (each lane takes the next node as soon as its last one answers: no
// batches, no children, no progress, no per-target records). A run takes
// `chunk` nodes at most and continues as new with the rest, so a 10,000-node
// fan-out stays under Temporal's history limits too.
import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ActionActivity } from '../activities/index.js';
import { nodeTaskQueue } from '../manifest/node-names.js';

export interface FanOutInput {
  environment: string;
  nodes: string[];
  concurrency: number;
  /** Nodes per workflow run before it continues as new. */
  chunk: number;
  pickupTimeoutMs: number;
  /** Carried over a continue-as-new. */
  succeeded?: number;
  failed?: string[];
  runs?: number;
}

export interface FanOutResult {
  succeeded: number;
  failed: string[];
  /** Workflow runs of the chain (1 without a continue-as-new). */
  runs: number;
}

export async function handwrittenFanOut(input: FanOutInput): Promise<FanOutResult> {
  const now = input.nodes.slice(0, input.chunk);
  const rest = input.nodes.slice(input.chunk);
  const failed = [...(input.failed ?? [])];
  let succeeded = input.succeeded ?? 0;
  let next = 0;
  const runId = workflowInfo().workflowId;
  const lane = async (): Promise<void> => {
    while (next < now.length) {
      const node = now[next]!;
      next += 1;
      const noop = proxyActivities<Record<'node.noop', ActionActivity>>({
        taskQueue: nodeTaskQueue(input.environment, node),
        scheduleToStartTimeout: input.pickupTimeoutMs,
        startToCloseTimeout: 30_000,
        retry: { maximumAttempts: 3, initialInterval: 1_000 },
      })['node.noop'];
      try {
        await noop({ message: 'fan-out' }, { runId, stepId: `noop@${node}`, runbook: 'bench-fan-out', environment: input.environment, maxAttempts: 3 });
        succeeded += 1;
      } catch {
        failed.push(node);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(input.concurrency, now.length)) }, () => lane()));
  const runs = (input.runs ?? 0) + 1;
  if (rest.length > 0) await continueAsNew<typeof handwrittenFanOut>({ ...input, nodes: rest, succeeded, failed, runs });
  return { succeeded, failed, runs };
}
