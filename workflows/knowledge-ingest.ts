// Ingestion of a finished run into the AI Ops knowledge base: a failed run
// becomes a `failed_run` document (its steps, errors and log lines), and the
// outcome of a run that executed an AI plan goes back to the plan's
// resolution (linked to the incident and weighed up, or weighed down). The
// interpreter starts it as an abandoned child when such a run ends, so the
// run's own result never waits for the knowledge base.
import { proxyActivities } from '@temporalio/workflow';
import type { KnowledgeActivities, RunOutcome } from '../ai/knowledge-activities.js';

const { ingestFailedRun, recordPlanOutcome } = proxyActivities<KnowledgeActivities>({
  // Embedding a long log through a model API (with its own retries) may take a while.
  startToCloseTimeout: '5 minutes',
  retry: { maximumAttempts: 5, initialInterval: '2 seconds', maximumInterval: '1 minute' },
});

export async function knowledgeIngest(outcome: RunOutcome): Promise<{ documentId?: string }> {
  const documentId = outcome.progress.status === 'failed' ? await ingestFailedRun(outcome) : undefined;
  if (outcome.planId) await recordPlanOutcome({ ...outcome, ...(documentId ? { failedRunDocumentId: documentId } : {}) });
  return documentId ? { documentId } : {};
}
