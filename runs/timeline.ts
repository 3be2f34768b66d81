// A run's step timeline read from its Temporal history: when each action step
// and compensation was scheduled, when its last attempt started, how many
// attempts it took, how it ended and why it failed; child runbooks likewise.
import proto from '@temporalio/proto';
import type { temporal as protoTypes } from '@temporalio/proto';

const { EventType } = proto.temporal.api.enums.v1;

export type TimelineStatus = 'scheduled' | 'running' | 'succeeded' | 'failed' | 'timed-out' | 'cancelled';

export interface TimelineEntry {
  /** The step id; for a compensation, the compensation step's id. */
  stepId: string;
  kind: 'action' | 'compensation' | 'runbook';
  /** The action (activity type) or, for a child runbook, its workflow id. */
  target: string;
  /** For a compensation: the step it undoes. */
  forStep?: string;
  scheduledAt: string;
  /** When the last attempt started (attempts before it are counted, not listed, by Temporal). */
  lastAttemptStartedAt?: string;
  endedAt?: string;
  attempts: number;
  status: TimelineStatus;
  failure?: string;
  /** The step's rendered arguments and its output, as JSON with secrets masked (filled in by RunService). */
  input?: string;
  output?: string;
}

/** The payloads behind a timeline entry: what the activity was given and what it returned. */
export interface TimelinePayloads {
  entry: TimelineEntry;
  input?: protoTypes.api.common.v1.IPayload;
  result?: protoTypes.api.common.v1.IPayload;
}

type Timestamp = { seconds?: unknown; nanos?: number | null } | null | undefined;

function isoTime(time: Timestamp): string {
  const seconds = Number(time?.seconds ?? 0);
  return new Date(seconds * 1_000 + Math.floor((time?.nanos ?? 0) / 1_000_000)).toISOString();
}

function entryForActivity(activityId: string, activityType: string, at: string): TimelineEntry | undefined {
  if (activityId.startsWith('step:')) {
    return { stepId: activityId.slice('step:'.length), kind: 'action', target: activityType, scheduledAt: at, attempts: 0, status: 'scheduled' };
  }
  if (activityId.startsWith('compensate:')) {
    const [, forStep = '', stepId = ''] = activityId.split(':');
    return { stepId, forStep, kind: 'compensation', target: activityType, scheduledAt: at, attempts: 0, status: 'scheduled' };
  }
  return undefined; // the projection's local activities and anything else are not steps
}

function failureMessage(failure: protoTypes.api.failure.v1.IFailure | null | undefined): string | undefined {
  let current = failure;
  while (current?.cause) current = current.cause;
  return current?.message ?? undefined;
}

export function buildTimeline(history: protoTypes.api.history.v1.IHistory, workflowId: string): TimelinePayloads[] {
  const entries: TimelinePayloads[] = [];
  const byScheduledEvent = new Map<number, TimelinePayloads>();
  const byChildWorkflow = new Map<string, TimelineEntry>();
  const end = (entry: TimelineEntry | undefined, at: string, status: TimelineStatus, failure?: string) => {
    if (!entry) return;
    entry.endedAt = at;
    entry.status = status;
    if (failure) entry.failure = failure;
  };
  for (const event of history.events ?? []) {
    const at = isoTime(event.eventTime);
    switch (event.eventType) {
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
        const attributes = event.activityTaskScheduledEventAttributes!;
        const entry = entryForActivity(attributes.activityId ?? '', attributes.activityType?.name ?? '', at);
        if (entry) {
          const tracked: TimelinePayloads = { entry, ...(attributes.input?.payloads?.[0] ? { input: attributes.input.payloads[0] } : {}) };
          entries.push(tracked);
          byScheduledEvent.set(Number(event.eventId), tracked);
        }
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const attributes = event.activityTaskStartedEventAttributes!;
        const entry = byScheduledEvent.get(Number(attributes.scheduledEventId))?.entry;
        if (!entry) break;
        entry.lastAttemptStartedAt = at;
        entry.attempts = attributes.attempt ?? 1;
        entry.status = 'running';
        const previous = failureMessage(attributes.lastFailure);
        if (previous) entry.failure = previous;
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: {
        const tracked = byScheduledEvent.get(Number(event.activityTaskCompletedEventAttributes!.scheduledEventId));
        end(tracked?.entry, at, 'succeeded');
        const result = event.activityTaskCompletedEventAttributes!.result?.payloads?.[0];
        if (tracked && result) tracked.result = result;
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
        end(byScheduledEvent.get(Number(event.activityTaskFailedEventAttributes!.scheduledEventId))?.entry, at, 'failed', failureMessage(event.activityTaskFailedEventAttributes!.failure));
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
        end(byScheduledEvent.get(Number(event.activityTaskTimedOutEventAttributes!.scheduledEventId))?.entry, at, 'timed-out', failureMessage(event.activityTaskTimedOutEventAttributes!.failure));
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
        end(byScheduledEvent.get(Number(event.activityTaskCanceledEventAttributes!.scheduledEventId))?.entry, at, 'cancelled');
        break;
      case EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED: {
        const childId = event.startChildWorkflowExecutionInitiatedEventAttributes!.workflowId ?? '';
        const prefix = `${workflowId}--`;
        if (!childId.startsWith(prefix)) break;
        const entry: TimelineEntry = { stepId: childId.slice(prefix.length), kind: 'runbook', target: childId, scheduledAt: at, attempts: 1, status: 'scheduled' };
        entries.push({ entry });
        byChildWorkflow.set(childId, entry);
        break;
      }
      case EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED: {
        const entry = byChildWorkflow.get(event.childWorkflowExecutionStartedEventAttributes!.workflowExecution?.workflowId ?? '');
        if (entry) {
          entry.lastAttemptStartedAt = at;
          entry.status = 'running';
        }
        break;
      }
      case EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED:
        end(byChildWorkflow.get(event.childWorkflowExecutionCompletedEventAttributes!.workflowExecution?.workflowId ?? ''), at, 'succeeded');
        break;
      case EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED: {
        const attributes = event.childWorkflowExecutionFailedEventAttributes!;
        end(byChildWorkflow.get(attributes.workflowExecution?.workflowId ?? ''), at, 'failed', failureMessage(attributes.failure));
        break;
      }
      case EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED:
        end(byChildWorkflow.get(event.childWorkflowExecutionCanceledEventAttributes!.workflowExecution?.workflowId ?? ''), at, 'cancelled');
        break;
      default:
        break;
    }
  }
  return entries;
}
