// What the knowledge base keeps of a failed run: what tells this failure
// apart (its error signature, the first error lines, the failing step) in
// the body that is embedded, and its log lines with their sequence numbers,
// so a later diagnosis can retrieve it and cite the lines. The boilerplate
// every run shares (who started it, "command exited with code N", the list
// of steps that succeeded) stays in metadata: embedded, it made unrelated
// failures look alike.
import type { StoredLine } from '../logs/run-log-store.js';
import type { RunProgress, StepProgress } from '../workflows/messages.js';
import { readFailure } from './error-signatures.js';
import type { NewKnowledgeDocument } from './knowledge-documents.js';

/** Lines kept of one run: the failing steps' lines first, then the rest. */
const MAX_LINES = 4_000;
const MAX_LINE_CHARS = 2_000;
const MAX_BODY_ERROR_LINES = 8;

export function failedStepOf(progress: RunProgress): StepProgress | undefined {
  return progress.steps.find((step) => step.status === 'failed' || step.status === 'rejected');
}

/** An error message without the wrapper every failed command shares. */
export function distinctiveError(error: string | undefined): string | undefined {
  const stripped = error?.replace(/^command (exited with code \d+|was killed by \w+)(: )?/i, '').trim();
  return stripped || undefined;
}

export function failedRunDocument(runId: string, executionId: string, progress: RunProgress, lines: StoredLine[]): NewKnowledgeDocument {
  const failed = failedStepOf(progress);
  const failedIds = new Set(progress.steps.filter((step) => step.status === 'failed').map((step) => step.id));
  const chosen = [...lines.filter((line) => failedIds.has(line.stepId)), ...lines.filter((line) => !failedIds.has(line.stepId))].slice(0, MAX_LINES).sort((a, b) => a.seq - b.seq);
  const error = failed?.error ?? progress.error ?? undefined;
  const reading = readFailure(failed ? lines.filter((line) => line.stepId === failed.id) : [], error);
  const headline = reading.cause ?? distinctiveError(error) ?? 'unknown error';
  const body = [
    `Cause: ${headline}`,
    ...(reading.errorLines.length > 0
      ? ['Error lines:', ...reading.errorLines.slice(0, MAX_BODY_ERROR_LINES).map((line) => line.text.slice(0, 500))]
      : [`Error: ${distinctiveError(error) ?? 'unknown'}`]),
    failed ? `Failed step ${failed.id}${failed.action ? ` (${failed.action})` : ''}${failed.title ? `: ${failed.title}` : ''} of ${progress.runbook}.` : `The run of ${progress.runbook} failed.`,
  ].join('\n');
  return {
    kind: 'failed_run',
    title: `${progress.runbook} failed at ${failed ? `step ${failed.id}` : 'the run'}: ${headline.slice(0, 300)}`,
    body,
    environment: progress.environment,
    runbook: progress.runbook,
    runId,
    metadata: {
      executionId,
      failedStep: failed?.id ?? null,
      action: failed?.action ?? null,
      error: error ?? null,
      startedBy: progress.startedBy,
      startedAt: progress.startedAt,
      version: progress.version,
      signatures: reading.signature ? [reading.signature.id] : [],
      suspectLines: reading.suspect.map((line) => line.seq),
      steps: progress.steps.map((step) => ({ id: step.id, action: step.action ?? null, status: step.status, attempts: step.attempts, error: step.error ?? null })),
      // The title repeats the body's first line; embedding it again would weigh the runbook name over the error.
      embedTitle: false,
    },
    createdBy: 'jarvis',
    logLines: chosen.map((line) => ({ number: line.seq, text: `[${line.stepId}] ${line.text.slice(0, MAX_LINE_CHARS)}` })),
  };
}
