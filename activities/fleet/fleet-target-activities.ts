// The fleet steps' activities on the main workers: which nodes a selector
// picks in the run's environment, read from the inventory when the step
// starts, and how each target of a batch is reached when the batch starts (its
// agent, or SSH for a node without one). A worker without a database has no
// inventory, so a fleet step fails there.
import { ApplicationFailure } from '@temporalio/activity';
import type { NodeStore } from '../../infra/node-store.js';
import { toSelector } from '../../manifest/fleet.js';
import type { ActionCatalog, ActionDescription } from '../../manifest/action-catalog.js';

/** How one target is reached: its agent's task queue, SSH from the main workers, or not at all (why). */
export type FleetRoute = { via: 'agent' } | { via: 'ssh'; address: string; connection: string; user: string } | { via: 'none'; reason: string };

export interface FleetTargetActivities {
  resolveFleetTargets(request: { environment: string; selector: unknown; stepId: string }): Promise<string[]>;
  routeFleetTargets(request: { environment: string; targets: string[]; actions: string[] }): Promise<Record<string, FleetRoute>>;
}

export function createFleetTargetActivities(store: NodeStore | undefined, catalog: ActionCatalog<ActionDescription>): FleetTargetActivities {
  const inventory = (): NodeStore => {
    if (!store) throw ApplicationFailure.nonRetryable('this worker has no node inventory (no database): fleet steps cannot resolve their targets', 'NoInventory');
    return store;
  };
  return {
    async resolveFleetTargets({ environment, selector, stepId }) {
      const parsed = toSelector(selector);
      if (typeof parsed === 'string') throw ApplicationFailure.nonRetryable(`step "${stepId}" has a bad targets selector: ${parsed}`, 'InvalidSelector');
      return inventory().selectNames(environment, parsed);
    },

    async routeFleetTargets({ environment, targets, actions }) {
      const nodes = await inventory().fleetRoutes(environment, targets);
      const agentOnly = actions.filter((id) => catalog.find(id)?.overSsh !== true);
      const routes: Record<string, FleetRoute> = {};
      for (const name of targets) {
        const node = nodes.get(name);
        // A node with an agent, or one still waiting for its agent (without SSH access): its queue; an agent that never comes fails the pickup.
        if (!node) routes[name] = { via: 'none', reason: `node ${name} is no longer in the inventory of ${environment}` };
        else if (node.taskQueue || !node.ssh) routes[name] = { via: 'agent' };
        else if (agentOnly.length > 0) routes[name] = { via: 'none', reason: `node ${name} has no agent and ${agentOnly.join(', ')} cannot run over SSH: enroll an agent on it` };
        else if (!node.address) routes[name] = { via: 'none', reason: `node ${name} has no address to reach it over SSH` };
        else routes[name] = { via: 'ssh', address: node.address, connection: node.ssh.connection, user: node.ssh.user };
      }
      return routes;
    },
  };
}
