// One notification to one target, delivered durably: retried with exponential
// backoff for about half an hour. Nothing in a run waits for it, so a channel
// that is down delays no run and fails none.
import { ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { DeliveryInput, NotificationActivities } from '../notifications/notification-activities.js';

export const NOTIFICATION_MAX_ATTEMPTS = 12;

const { sendNotification } = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '15 minutes', maximumAttempts: NOTIFICATION_MAX_ATTEMPTS },
});

export type DeliveryResult = { status: 'sent' | 'skipped' } | { status: 'failed'; error: string };

export async function deliverNotification(input: Omit<DeliveryInput, 'maxAttempts'>): Promise<DeliveryResult> {
  try {
    return { status: await sendNotification({ ...input, maxAttempts: NOTIFICATION_MAX_ATTEMPTS }) };
  } catch (error) {
    // The delivery log holds the failure; the workflow ends without one, since nobody retries it as a whole.
    if (error instanceof ActivityFailure) return { status: 'failed', error: error.cause?.message ?? error.message };
    throw error;
  }
}
