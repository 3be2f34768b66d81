// The activity that sends one notification: it loads the event, the target's
// channel and credentials (never carried in workflow history), renders the
// message in the recipient's language, sends it, and logs each attempt.
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { EgressAllowlistSource } from '../activities/http/egress-policy.js';
import { sendOnChannel, type NotificationChannel } from '../activities/notify/index.js';
import type { ConnectionResolver } from '../security/connection-resolver.js';
import { renderNotification } from './messages.js';
import { targetKey, type DeliveryTarget, type NotificationStore } from './notification-store.js';

export interface DeliveryInput {
  eventId: string;
  target: DeliveryTarget;
  /** The workflow's retry limit: the attempt that reaches it logs the delivery as failed. */
  maxAttempts: number;
  /** "Send a test" of a rule. */
  test?: boolean;
}

export type DeliveryOutcome = 'sent' | 'skipped';

export interface NotificationActivities {
  sendNotification(input: DeliveryInput): Promise<DeliveryOutcome>;
}

export interface NotificationDeliveryDependencies {
  store: NotificationStore;
  connections: ConnectionResolver;
  egress?: EgressAllowlistSource;
  /** JARVIS_PUBLIC_WEB_URL: messages link to its pages. */
  publicWebUrl: string;
}

const LOG_LINES = 8;

export function createNotificationActivities(deps: NotificationDeliveryDependencies | undefined): NotificationActivities {
  return {
    async sendNotification(input) {
      if (!deps) throw ApplicationFailure.nonRetryable('this worker has no database: it cannot send notifications', 'NotificationsUnavailable');
      const attempt = Context.current().info.attempt;
      const event = await deps.store.event(input.eventId);
      if (!event) return 'skipped';
      const target = targetKey(input.target);
      if (await deps.store.alreadySent(event.id, target)) return 'sent';
      const resolved = await deps.store.resolveTarget(input.target, event.environment);
      if (!resolved) {
        await deps.store.recordAttempt({
          event,
          target,
          channel: 'none',
          status: 'failed',
          attempt,
          error: 'the rule or subscription is gone, or names no channel (no default SMTP connection for the environment?)',
        });
        return 'skipped';
      }
      const connection = await deps.store.connectionName(resolved.connectionId);
      const unsealed = connection ? await deps.connections.resolve(connection.environment, connection.name) : undefined;
      if (!connection || !unsealed) {
        await deps.store.recordAttempt({ event, target, resolved, channel: 'none', status: 'failed', attempt, error: 'the channel connection is gone' });
        return 'skipped';
      }
      const channel: NotificationChannel = {
        connectionId: unsealed.id,
        type: unsealed.type,
        environment: unsealed.environment,
        config: unsealed.config,
        ...(unsealed.secret !== undefined ? { secret: unsealed.secret } : {}),
        ...(resolved.recipient ? { recipient: resolved.recipient } : {}),
      };
      const failed = event.payload.failedStep;
      const logLines = failed && event.runId ? await deps.store.lastLines(event.runId, failed.id, LOG_LINES) : [];
      const message = renderNotification(
        { kind: event.kind, environment: event.environment, payload: event.payload, publicWebUrl: deps.publicWebUrl, logLines, test: input.test ?? false },
        resolved.locale,
      );
      try {
        await sendOnChannel(message, channel, deps.egress);
      } catch (error) {
        const final = (error instanceof ApplicationFailure && error.nonRetryable) || attempt >= input.maxAttempts;
        const text = error instanceof Error ? error.message : String(error);
        await deps.store.recordAttempt({ event, target, resolved, channel: channel.type, status: final ? 'failed' : 'retrying', attempt, error: text });
        throw error;
      }
      await deps.store.recordAttempt({ event, target, resolved, channel: channel.type, status: 'sent', attempt });
      return 'sent';
    },
  };
}
