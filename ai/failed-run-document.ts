// What the knowledge base keeps of a failed run: its steps with their status
// and errors, and its log lines with their sequence numbers, so a later
// diagnosis can retrieve it and cite the lines.
import type { StoredLine } from '../logs/run-log-store.js';
import type { RunProgress, StepProgress } from '../workflows/messages.js';
import type { NewKnowledgeDocument } from './knowledge-documents.js';

/** Lines kept of one run: the failing steps' lines first, then the rest. */
const MAX_LINES = 4_000;
const MAX_LINE_CHARS = 2_000;

export function failedStepOf(progress: RunProgress): StepProgress | undefined {
  return progress.steps.find((step) => step.status === 'failed' || step.status === 'rejected');
}

export function failedRunDocument(runId: string, executionId: string, progress: RunProgress, lines: StoredLine[]): NewKnowledgeDocument {
  const failed = failedStepOf(progress);
  const failedIds = new Set(progress.steps.filter((step) => step.status === 'failed').map((step) => step.id));
  const chosen = [...lines.filter((line) => failedIds.has(line.stepId)), ...lines.filter((line) => !failedIds.has(line.stepId))]
    .slice(0, MAX_LINES)
    .sort((a, b) => a.seq - b.seq);
  const body = [
    `Runbook ${progress.runbook} (version ${progress.version}) failed in ${progress.environment}, started by ${progress.startedBy} at ${progress.startedAt}.`,
    failed ? `Failed step: ${failed.id}${failed.action ? ` (${failed.action})` : ''}${failed.title ? `, "${failed.title}"` : ''}.` : 'No step failed: the run itself failed.',
    `Error: ${failed?.error ?? progress.error ?? 'unknown'}`,
    '',
    'Steps:',
    ...progress.steps.map((step) => `- ${step.id}${step.action ? ` (${step.action})` : ''}: ${step.status}${step.attempts > 1 ? `, ${step.attempts} attempts` : ''}${step.error ? `: ${step.error}` : ''}`),
    ...progress.compensations.map((entry) => `- compensation ${entry.id} of ${entry.forStep} (${entry.action}): ${entry.status}${entry.error ? `: ${entry.error}` : ''}`),
  ].join('\n');
  return {
    kind: 'failed_run',
    title: `${progress.runbook} failed at ${failed ? `step ${failed.id}` : 'the run'}: ${(failed?.error ?? progress.error ?? 'unknown error').slice(0, 300)}`,
    body,
    environment: progress.environment,
    runbook: progress.runbook,
    runId,
    metadata: {
      executionId,
      failedStep: failed?.id ?? null,
      action: failed?.action ?? null,
      error: failed?.error ?? progress.error ?? null,
      startedBy: progress.startedBy,
    },
    createdBy: 'jarvis',
    logLines: chosen.map((line) => ({ number: line.seq, text: `[${line.stepId}] ${line.text.slice(0, MAX_LINE_CHARS)}` })),
  };
}
