// The node health check the `jarvis-node-health` schedule runs: every node with
// an agent is asked for a health sample on its own task queue; an agent that
// does not pick the task up in time marks its node unreachable.
import { patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ActionActivity, ActionResult } from '../activities/index.js';
import type { NodeHealthActivities } from '../activities/nodes/health-check-activities.js';
import type { NodeHealth } from '../infra/node-health.js';
import type { HardwareProfile } from '../infra/node-profile.js';

export interface NodeHealthCheckInput {
  /** How long an agent has to pick up its check before its node counts as unreachable. */
  pickupTimeoutMs: number;
  /** A kept profile older than this is collected again with the check. */
  profileMaxAgeMs?: number;
}

export interface NodeHealthCheckResult {
  online: string[];
  unreachable: Array<{ node: string; reason: string }>;
}

const PROFILE_MAX_AGE_MS = 60 * 60_000;
/** Checks recorded before payloads had a key per environment sent them without naming the node's environment. */
const ENVIRONMENT_KEYS_PATCH = 'environment-payload-keys';

const inventory = proxyActivities<NodeHealthActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3, initialInterval: '1 second' },
});

function reasonOf(error: unknown): string {
  let current = error as { message?: string; cause?: unknown } | undefined;
  while (current?.cause) current = current.cause as typeof current;
  return current?.message ?? String(error);
}

export async function nodeHealthCheck(input: NodeHealthCheckInput): Promise<NodeHealthCheckResult> {
  const result: NodeHealthCheckResult = { online: [], unreachable: [] };
  const nodes = await inventory.listAgentNodes();
  // The activity id names the node's environment, so its payloads get that environment's key: the only one its agent holds.
  const namedForEnvironment = patched(ENVIRONMENT_KEYS_PATCH);
  await Promise.all(
    nodes.map(async (node) => {
      const label = `${node.environment}/${node.name}`;
      const onNode = (check: 'health' | 'profile') => proxyActivities<Record<string, ActionActivity>>({
        ...(namedForEnvironment ? { activityId: `node-health@${node.environment}:${node.name}:${check}` } : {}),
        taskQueue: node.taskQueue,
        scheduleToStartTimeout: input.pickupTimeoutMs,
        startToCloseTimeout: '1 minute',
        // A check that fails is an answer in itself: the next scheduled check is the retry.
        retry: { maximumAttempts: 1 },
      });
      const step = { runId: workflowInfo().workflowId, stepId: `health-${node.name}`, runbook: 'node-health', environment: node.environment };
      try {
        const health = (await onNode('health')['node.health']!({}, step)) as ActionResult;
        const stale = !node.profileCollectedAt || Date.now() - Date.parse(node.profileCollectedAt) > (input.profileMaxAgeMs ?? PROFILE_MAX_AGE_MS);
        const profile = stale ? ((await onNode('profile')['node.profile']!({}, step)) as ActionResult).output : undefined;
        await inventory.recordNodeHealth({ id: node.id, health: health.output as NodeHealth, ...(profile ? { profile: profile as HardwareProfile } : {}) });
        result.online.push(label);
      } catch (error) {
        const reason = reasonOf(error);
        await inventory.markNodeUnreachable({ id: node.id, reason });
        result.unreachable.push({ node: label, reason });
      }
    }),
  );
  return result;
}
