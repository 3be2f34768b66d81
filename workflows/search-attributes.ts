// Custom search attributes of runs, shared by the workflow, the clients and
// the dev-server launcher that registers them.
import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';

export const RUNBOOK_ATTRIBUTE = defineSearchAttributeKey('JarvisRunbook', SearchAttributeType.KEYWORD);
export const ENVIRONMENT_ATTRIBUTE = defineSearchAttributeKey('JarvisEnvironment', SearchAttributeType.KEYWORD);
export const STARTED_BY_ATTRIBUTE = defineSearchAttributeKey('JarvisStartedBy', SearchAttributeType.KEYWORD);
export const RERUN_OF_ATTRIBUTE = defineSearchAttributeKey('JarvisRerunOf', SearchAttributeType.KEYWORD);

/** The schedule whose fire started a run. */
export const SCHEDULE_ATTRIBUTE = defineSearchAttributeKey('JarvisScheduleId', SearchAttributeType.KEYWORD);
/** Set by Temporal on a workflow a schedule starts: the time it was due (a backfill's past time, a trigger's now). */
export const SCHEDULED_START_TIME_ATTRIBUTE = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

export const RUN_SEARCH_ATTRIBUTES = [RUNBOOK_ATTRIBUTE, ENVIRONMENT_ATTRIBUTE, STARTED_BY_ATTRIBUTE, RERUN_OF_ATTRIBUTE, SCHEDULE_ATTRIBUTE];

/** A run's search attributes as plain values (they travel in activity results, which cannot carry typed keys). */
export interface RunAttributes {
  runbook: string;
  environment: string;
  startedBy: string;
  rerunOf?: string;
  scheduleId?: string;
}

export function runSearchAttributes(attributes: RunAttributes): SearchAttributePair[] {
  return [
    { key: RUNBOOK_ATTRIBUTE, value: attributes.runbook },
    { key: ENVIRONMENT_ATTRIBUTE, value: attributes.environment },
    { key: STARTED_BY_ATTRIBUTE, value: attributes.startedBy },
    ...(attributes.rerunOf ? [{ key: RERUN_OF_ATTRIBUTE, value: attributes.rerunOf }] : []),
    ...(attributes.scheduleId ? [{ key: SCHEDULE_ATTRIBUTE, value: attributes.scheduleId }] : []),
  ];
}
