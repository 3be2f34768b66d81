// Events people can be told about, and how they enter the outbox
// (notification_events): in the same transaction as the change they report,
// once per dedup key, so nothing is lost or doubled.
import type { RunSummaryUpdate } from '../runs/run-summary-store.js';
import type { RunProgress, StepProgress } from '../workflows/messages.js';

export const NOTIFICATION_KINDS = [
  'run.started',
  'run.succeeded',
  'run.failed',
  'run.cancelled',
  'run.rejected',
  'approval.waiting',
  'approval.deadline-near',
  'approval.decided',
  'node.unreachable',
  'node.back',
  'schedule.fire-refused',
  'trigger.refused',
  'alert.resolved',
] as const;

export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export function isNotificationKind(kind: string): kind is NotificationKind {
  return (NOTIFICATION_KINDS as readonly string[]).includes(kind);
}

/** The step an approval event is about. */
export interface ApprovalStepPayload {
  id: string;
  title?: string;
  role: string;
  required: number;
  allowStarter: boolean;
  deadline?: string;
  approvedBy: string[];
}

/** What an event carries: enough to pick recipients and write the message, never a secret. */
export interface NotificationPayload {
  runId?: string;
  runbook?: string;
  startedBy?: string;
  status?: RunProgress['status'];
  error?: string;
  startedAt?: string;
  endedAt?: string;
  failedStep?: { id: string; title?: string; error?: string };
  step?: ApprovalStepPayload;
  decision?: { outcome: 'approved' | 'rejected'; by: string[]; reason?: string };
  node?: { id: string; name: string; reason?: string };
  /** schedule.fire-refused, trigger.refused and other events from elsewhere: what it was, and why. */
  subject?: string;
  reason?: string;
  [key: string]: unknown;
}

export interface NewNotificationEvent {
  kind: NotificationKind;
  environment: string;
  runId?: string;
  payload: NotificationPayload;
  dedupKey: string;
}

export interface Queryable {
  query(text: string, values?: unknown[]): Promise<unknown>;
}

/** Writes events with the caller's client (inside its transaction); a dedup key already stored adds nothing. */
export async function insertNotificationEvents(client: Queryable, events: readonly NewNotificationEvent[]): Promise<void> {
  if (events.length === 0) return;
  await client.query(
    `INSERT INTO notification_events (id, kind, environment, run_id, payload, dedup_key)
     SELECT gen_random_uuid(), event.kind, event.environment, event.run_id, event.payload, event.dedup_key
     FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[], $5::text[]) AS event(kind, environment, run_id, payload, dedup_key)
     ON CONFLICT (dedup_key) DO NOTHING`,
    [
      events.map((event) => event.kind),
      events.map((event) => event.environment),
      events.map((event) => event.runId ?? null),
      events.map((event) => JSON.stringify(event.payload)),
      events.map((event) => event.dedupKey),
    ],
  );
}

const FINISHED: Record<Exclude<RunProgress['status'], 'running'>, NotificationKind> = { succeeded: 'run.succeeded', failed: 'run.failed', cancelled: 'run.cancelled', rejected: 'run.rejected' };

function approvalOf(step: StepProgress): ApprovalStepPayload | undefined {
  if (step.kind !== 'approval' || !step.approval) return undefined;
  const { role, required, allowStarter, deadline, approvedBy } = step.approval;
  return { id: step.id, ...(step.title ? { title: step.title } : {}), role, required, allowStarter, ...(deadline ? { deadline } : {}), approvedBy: approvedBy.map((given) => given.user) };
}

/**
 * The events one projection write reports, given what was stored before it:
 * the run started, ended, an approval started waiting or was decided.
 */
export function runEventsOf(previous: { executionId: string; status: string } | undefined, update: RunSummaryUpdate): NewNotificationEvent[] {
  const { run } = update;
  const key = (kind: string, stepId?: string) => `run:${update.workflowId}:${update.executionId}:${kind}${stepId ? `:${stepId}` : ''}`;
  const base: NotificationPayload = { runId: update.workflowId, runbook: run.runbook, startedBy: run.startedBy, status: run.status, startedAt: run.startedAt };
  const event = (kind: NotificationKind, payload: NotificationPayload, stepId?: string): NewNotificationEvent => ({
    kind,
    environment: run.environment,
    runId: update.workflowId,
    payload: { ...base, ...payload },
    dedupKey: key(kind, stepId),
  });
  const events: NewNotificationEvent[] = [];
  const sameExecution = previous?.executionId === update.executionId;
  // A child runbook's start and end are its parent's steps; its approvals still wait for people.
  const ownRun = update.parentRunId === undefined;
  if (ownRun && run.status === 'running' && !sameExecution) events.push(event('run.started', {}));
  if (ownRun && run.status !== 'running' && (!sameExecution || previous?.status !== run.status)) {
    const failed = update.steps.map((entry) => entry.step).find((step) => step.status === 'failed');
    events.push(
      event(FINISHED[run.status], {
        ...(run.error ? { error: run.error } : {}),
        ...(run.endedAt ? { endedAt: run.endedAt } : {}),
        ...(failed ? { failedStep: { id: failed.id, ...(failed.title ? { title: failed.title } : {}), ...(failed.error ? { error: failed.error } : {}) } } : {}),
      }),
    );
  }
  for (const { step } of update.steps) {
    const approval = approvalOf(step);
    if (!approval || !step.approval) continue;
    const rejected = step.approval.rejectedBy;
    if (rejected) {
      events.push(event('approval.decided', { step: approval, decision: { outcome: 'rejected', by: [rejected.user], reason: rejected.reason } }, step.id));
    } else if (approval.approvedBy.length >= approval.required) {
      events.push(event('approval.decided', { step: approval, decision: { outcome: 'approved', by: approval.approvedBy } }, step.id));
    } else if (step.status === 'waiting' && run.status === 'running') {
      events.push(event('approval.waiting', { step: approval }, step.id));
    }
  }
  return events;
}
