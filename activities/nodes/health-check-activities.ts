// The node-health workflow's activities on the main workers: which nodes have
// an agent, and what their check found. A worker without a database has no
// inventory, so it has no nodes to check.
import type { NodeHealth } from '../../infra/node-health.js';
import type { HardwareProfile } from '../../infra/node-profile.js';
import type { AgentNode, NodeStore } from '../../infra/node-store.js';

export interface NodeHealthActivities {
  listAgentNodes(): Promise<AgentNode[]>;
  recordNodeHealth(result: { id: string; health: NodeHealth; profile?: HardwareProfile }): Promise<void>;
  markNodeUnreachable(result: { id: string; reason: string }): Promise<void>;
}

export function createNodeHealthActivities(store: NodeStore | undefined): NodeHealthActivities {
  return {
    async listAgentNodes() {
      return store ? store.listAgentNodes() : [];
    },
    async recordNodeHealth({ id, health, profile }) {
      await store?.recordHealth(id, health, profile);
    },
    async markNodeUnreachable({ id, reason }) {
      await store?.markUnreachable(id, reason);
    },
  };
}
