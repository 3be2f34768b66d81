// Activities of the knowledge-ingest workflow, on the main workers: a failed
// run becomes a `failed_run` document; the end of a run of an AI plan becomes
// feedback (a successful plan is a resolution linked to the incident it was
// proposed for and weighed up; a failed or rejected one weighs its sources
// down). A worker without a database has no knowledge base and skips both.
import { stringify } from 'yaml';
import type { LineSink } from '../activities/action.js';
import type { RunLogStore, StoredLine } from '../logs/run-log-store.js';
import type { RunProgress } from '../workflows/messages.js';
import { failedRunDocument } from './failed-run-document.js';
import type { KnowledgeStore } from './knowledge-store.js';
import type { PlanStore } from './plan-store.js';

/** What the interpreter hands over when a run ends. */
export interface RunOutcome {
  runId: string;
  executionId: string;
  planId?: string;
  progress: RunProgress;
  /** Set by the workflow when the run was just ingested as a failed run. */
  failedRunDocumentId?: string;
}

export interface KnowledgeActivities {
  ingestFailedRun(outcome: RunOutcome): Promise<string | undefined>;
  recordPlanOutcome(outcome: RunOutcome): Promise<void>;
}

export interface KnowledgeDependencies {
  knowledge: KnowledgeStore;
  logs: RunLogStore;
  plans: PlanStore;
  /** Flushed first, so the failing step's last lines are stored before they are read. */
  lineSink?: LineSink;
}

/** How much a run outcome moves the weights of the documents behind the plan. */
export const OUTCOME_FEEDBACK = { succeeded: 0.5, failed: -0.5, rejected: -0.25 } as const;

const LOG_PAGE = 5_000;
const MAX_LOG_LINES = 20_000;

async function readLog(logs: RunLogStore, runId: string): Promise<StoredLine[]> {
  const lines: StoredLine[] = [];
  for (;;) {
    const page = await logs.linesAfter(runId, lines.at(-1)?.seq ?? 0, LOG_PAGE);
    lines.push(...page);
    if (page.length < LOG_PAGE || lines.length >= MAX_LOG_LINES) return lines;
  }
}

function rejectionReason(progress: RunProgress): string | undefined {
  const rejected = progress.steps.find((step) => step.approval?.rejectedBy);
  return rejected?.approval?.rejectedBy ? `rejected by ${rejected.approval.rejectedBy.user} at step ${rejected.id}: ${rejected.approval.rejectedBy.reason}` : undefined;
}

export function createKnowledgeActivities(deps: KnowledgeDependencies | undefined): KnowledgeActivities {
  return {
    async ingestFailedRun(outcome) {
      if (!deps) return undefined;
      const ingested = (await deps.knowledge.documentsOfRun(outcome.runId, ['failed_run'])).find((document) => document.metadata.executionId === outcome.executionId);
      if (ingested) return ingested.id;
      await deps.lineSink?.flush();
      const lines = await readLog(deps.logs, outcome.runId);
      const document = await deps.knowledge.addDocument(failedRunDocument(outcome.runId, outcome.executionId, outcome.progress, lines));
      return document.id;
    },

    async recordPlanOutcome(outcome) {
      if (!deps || !outcome.planId) return;
      const status = outcome.progress.status;
      if (status !== 'succeeded' && status !== 'failed' && status !== 'rejected') return;
      const reason = status === 'rejected' ? rejectionReason(outcome.progress) : status === 'failed' ? outcome.progress.error : undefined;
      // Recorded once: a retried activity does not weigh the same outcome twice.
      const plan = await deps.plans.recordOutcome(outcome.planId, status, reason);
      if (!plan) return;
      for (const sourceId of plan.sourceDocumentIds) {
        await deps.knowledge.applyFeedback(sourceId, OUTCOME_FEEDBACK[status]).catch(() => undefined);
      }
      if (status === 'rejected') return;
      // A plan proposed before its run's failure was ingested learns its incident now.
      const incidentId = plan.incidentDocumentId ?? (plan.runId ? (await deps.knowledge.documentsOfRun(plan.runId, ['failed_run', 'incident']))[0]?.id : undefined);
      const steps = (plan.manifest.steps as unknown[] | undefined) ?? [];
      const document = await deps.knowledge.addDocument({
        kind: status === 'succeeded' ? 'resolution' : 'plan',
        title: `${status === 'succeeded' ? 'Resolution' : 'Failed plan'}: ${plan.goal}`.slice(0, 500),
        body: [`Goal: ${plan.goal}`, `Outcome: run ${outcome.runId} ${status}${reason ? `: ${reason}` : ''}.`, '', 'Steps:', stringify(steps)].join('\n'),
        environment: plan.environment,
        runbook: typeof plan.manifest.name === 'string' ? plan.manifest.name : undefined,
        runId: outcome.runId,
        // Only a plan that worked resolves its incident.
        ...(status === 'succeeded' && incidentId ? { incidentId } : {}),
        metadata: { planId: plan.id, outcome: status, manifest: plan.manifest, incidentDocumentId: incidentId ?? null, failedRunDocumentId: outcome.failedRunDocumentId ?? null },
        createdBy: plan.submittedBy ?? plan.createdBy,
      });
      await deps.knowledge.applyFeedback(document.id, OUTCOME_FEEDBACK[status]);
    },
  };
}
