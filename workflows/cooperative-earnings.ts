// The cooperative's earnings job: started by the `jarvis-cooperative-earnings`
// schedule every period, it pays each node for the period that just ended
// (cooperative/earnings.ts). A period computed again credits nothing, so a
// fire retried, backfilled or started twice is harmless.
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Earning } from '../cooperative/earnings.js';
import type { EarningsActivities } from '../cooperative/earnings-activities.js';
import { controlTaskQueue } from './scheduled-run.js';
import { SCHEDULED_START_TIME_ATTRIBUTE } from './search-attributes.js';

export const COOPERATIVE_EARNINGS_WORKFLOW = 'cooperativeEarnings';
/** The earning period: an hour. */
export const EARNINGS_PERIOD_MS = 3_600_000;

export interface CooperativeEarningsInput {
  /** Periods are aligned on the epoch: the one that ended last before the fire is paid (default an hour). */
  periodMs?: number;
  /** A given period instead (tests, a treasurer's catch-up). */
  periodStart?: string;
}

// The schedule starts it without arguments: a schedule's arguments are sealed with one installation's key, and
// another process (another key, a rotated one) could not describe it to see whether it is current.
export async function cooperativeEarnings(input: CooperativeEarningsInput = {}): Promise<Earning[]> {
  const periodMs = input.periodMs ?? EARNINGS_PERIOD_MS;
  const info = workflowInfo();
  const control = proxyActivities<EarningsActivities>({
    taskQueue: controlTaskQueue(info.taskQueue),
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: '2 minutes',
    // The API may be restarting: the job waits for it.
    scheduleToCloseTimeout: '12 hours',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
  });
  const firedAt = info.typedSearchAttributes.get(SCHEDULED_START_TIME_ATTRIBUTE) ?? info.startTime;
  const start = input.periodStart ? Date.parse(input.periodStart) : Math.floor(firedAt.getTime() / periodMs) * periodMs - periodMs;
  return control.computeCooperativeEarnings({ periodStart: new Date(start).toISOString(), periodEnd: new Date(start + periodMs).toISOString() });
}
