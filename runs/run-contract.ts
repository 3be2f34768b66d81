// The shapes of runs as the API, the web and the CLI exchange them. Types only
// (and the workflow's type name), so the web can import them without pulling
// the Temporal client into its bundle.
import type { RunProgress } from '../workflows/messages.js';
import type { DailyOutcome, RunSummaryStore } from './run-summary-store.js';

export type { ApprovalAnswer, RunProgress, StepProgress } from '../workflows/messages.js';
export type { WaitingApproval } from './run-summary-store.js';

/** Temporal's status names for the workflow's own run status. */
export const TEMPORAL_STATUS_OF: Record<RunProgress['status'], string> = {
  running: 'RUNNING',
  succeeded: 'COMPLETED',
  failed: 'FAILED',
  rejected: 'FAILED',
  cancelled: 'CANCELLED',
};

/** The workflow type every run executes: the runbook interpreter. */
export const INTERPRETER_WORKFLOW = 'runbookInterpreter';

export interface RunSummary {
  id: string;
  runId: string;
  runbook?: string;
  environment?: string;
  startedBy?: string;
  rerunOf?: string;
  status: string;
  startedAt: string;
  closedAt?: string;
  /** Held out of retention purges (retention/). */
  held?: boolean;
}

export interface RunDetails extends RunSummary {
  progress?: RunProgress;
  error?: string;
  /** Steps whose activity is retrying right now, with the attempt it is on and its last failure. */
  pendingAttempts: Array<{ stepId: string; attempt: number; lastFailure?: string }>;
}

export interface ListRunsFilter {
  status?: string;
  runbook?: string;
  environment?: string;
  /** Only runs in these environments (the ones the caller may read). */
  environments?: string[];
  startedBy?: string;
  /** Runs a schedule's fires started. */
  schedule?: string;
  /** ISO 8601 times bounding when runs started. */
  startedAfter?: string;
  startedBefore?: string;
  limit?: number;
  /** Where the previous page ended (its `nextCursor`). */
  cursor?: string;
}

export interface RunPage {
  runs: RunSummary[];
  /** Pass back as `cursor` for the next page; absent on the last one. */
  nextCursor?: string;
}

export interface RunStatistics {
  running: number;
  failedLast24h: number;
  recentFailures: Awaited<ReturnType<RunSummaryStore['recentFailures']>>;
  daily: DailyOutcome[];
}

/** Where a run was found: its environment and the execution read. */
export interface RunLocation {
  environment: string;
  executionId: string;
}

export interface StartedRun {
  id: string;
  runId: string;
  /** True when an earlier start with the same idempotency token had already started this run. */
  replayed?: boolean;
}

/** A run's inputs as it was started (secret ones masked) and its runbook's name and version. */
export interface RunInputs {
  runbook: string;
  version: string;
  inputs: Record<string, unknown>;
}
