// What a schedule's fire runs: the API's control worker decides whether the
// schedule's owner may still start its runbook (and signs the start, as the
// API signs any other), then the run is started as this workflow's child and
// awaited, so the schedule's overlap policy and pause-on-failure see the run
// itself. The arguments name the schedule only: the inputs stay sealed in the
// database until the fire, and nothing the schedule's caller wrote is trusted.
import { ApplicationFailure, ParentClosePolicy, proxyActivities, startChild, workflowInfo, WorkflowIdReusePolicy } from '@temporalio/workflow';
import type { ScheduleFireActivities } from '../schedules/schedule-fire-activities.js';
import { runbookInterpreter } from './runbook-interpreter.js';
import { runSearchAttributes, SCHEDULED_START_TIME_ATTRIBUTE } from './search-attributes.js';

export interface ScheduledRunInput {
  scheduleId: string;
}

export interface ScheduledRunResult {
  outcome: 'succeeded' | 'refused' | 'skipped';
  runId?: string;
  reason?: string;
}

/** The task queue of the activities only the API process can perform (it holds the catalog, the users and the signing key). */
export function controlTaskQueue(taskQueue: string): string {
  return `${taskQueue}.control`;
}

export async function scheduledRun(input: ScheduledRunInput): Promise<ScheduledRunResult> {
  const info = workflowInfo();
  const control = proxyActivities<ScheduleFireActivities>({
    taskQueue: controlTaskQueue(info.taskQueue),
    startToCloseTimeout: '30 seconds',
    // The API may be restarting: a fire waits for it rather than being lost.
    scheduleToCloseTimeout: '1 hour',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
  });
  const scheduledAt = (info.typedSearchAttributes.get(SCHEDULED_START_TIME_ATTRIBUTE) ?? info.startTime).toISOString();
  const fire = { scheduleId: input.scheduleId, scheduledAt, fireWorkflowId: info.workflowId };
  const decision = await control.prepareScheduledRun(fire);
  if (decision.kind === 'refused') return { outcome: 'refused', reason: decision.reason };
  const { plan } = decision;
  let child;
  try {
    child = await startChild(runbookInterpreter, {
      workflowId: plan.id,
      args: [plan.input],
      taskQueue: info.taskQueue,
      typedSearchAttributes: runSearchAttributes(plan.attributes),
      ...(plan.memo ? { memo: plan.memo } : {}),
      ...(plan.key === undefined ? { workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE } : {}),
      // A schedule that cancels the previous fire (overlap policy) cancels its run, which then compensates.
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
    });
  } catch (error) {
    // A concurrency-keyed runbook whose key another run holds: this fire starts nothing.
    const reason = `run ${plan.id} could not start: ${(error as Error).message}`;
    await control.recordScheduleFire({ ...fire, outcome: 'skipped', runId: plan.id, reason });
    return { outcome: 'skipped', runId: plan.id, reason };
  }
  try {
    await child.result();
  } catch (error) {
    // Failing this workflow too is what lets a schedule pause on failure.
    throw ApplicationFailure.create({ message: `scheduled run ${plan.id} did not succeed: ${(error as Error).message}`, type: 'ScheduledRunFailed', nonRetryable: true });
  }
  return { outcome: 'succeeded', runId: plan.id };
}
