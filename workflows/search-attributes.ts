// Custom search attributes of runs, shared by the workflow, the clients and
// the dev-server launcher that registers them.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const RUNBOOK_ATTRIBUTE = defineSearchAttributeKey('JarvisRunbook', SearchAttributeType.KEYWORD);
export const ENVIRONMENT_ATTRIBUTE = defineSearchAttributeKey('JarvisEnvironment', SearchAttributeType.KEYWORD);
export const STARTED_BY_ATTRIBUTE = defineSearchAttributeKey('JarvisStartedBy', SearchAttributeType.KEYWORD);
export const RERUN_OF_ATTRIBUTE = defineSearchAttributeKey('JarvisRerunOf', SearchAttributeType.KEYWORD);

export const RUN_SEARCH_ATTRIBUTES = [RUNBOOK_ATTRIBUTE, ENVIRONMENT_ATTRIBUTE, STARTED_BY_ATTRIBUTE, RERUN_OF_ATTRIBUTE];
