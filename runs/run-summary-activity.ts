// The local activity through which a run's workflow writes its own summary.
// A worker without a database keeps no projection: readers then use Temporal.
import type { RecordAnswer, RunSummaryStore, RunSummaryUpdate } from './run-summary-store.js';

export interface RunSummaryActivities {
  recordRunSummary(update: RunSummaryUpdate): Promise<RecordAnswer>;
}

export function createRunSummaryActivities(store: RunSummaryStore | undefined): RunSummaryActivities {
  return {
    async recordRunSummary(update) {
      return store ? store.record(update) : 'stored';
    },
  };
}
