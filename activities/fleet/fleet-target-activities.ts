// The fleet steps' activity on the main workers: which nodes a selector picks
// in the run's environment, read from the inventory when the step starts. A
// worker without a database has no inventory, so a fleet step fails there.
import { ApplicationFailure } from '@temporalio/activity';
import type { NodeStore } from '../../infra/node-store.js';
import { toSelector } from '../../manifest/fleet.js';

export interface FleetTargetActivities {
  resolveFleetTargets(request: { environment: string; selector: unknown; stepId: string }): Promise<string[]>;
}

export function createFleetTargetActivities(store: NodeStore | undefined): FleetTargetActivities {
  return {
    async resolveFleetTargets({ environment, selector, stepId }) {
      const parsed = toSelector(selector);
      if (typeof parsed === 'string') throw ApplicationFailure.nonRetryable(`step "${stepId}" has a bad targets selector: ${parsed}`, 'InvalidSelector');
      if (!store) throw ApplicationFailure.nonRetryable('this worker has no node inventory (no database): fleet steps cannot resolve their targets', 'NoInventory');
      return store.selectNames(environment, parsed);
    },
  };
}
