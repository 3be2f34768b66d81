// Reads and writes of notifications shared by the API (dispatcher, rules,
// subscriptions, delivery log) and the worker (what a delivery needs, its
// attempts). Plain SQL over a pool: the worker has no Prisma client.
import type pg from 'pg';
import type { Role } from '../manifest/types.js';
import { approvalBlocker } from '../workflows/approval-rule.js';
import type { NotificationKind, NotificationPayload } from './events.js';
import { localeOf, type Locale } from './messages.js';

export interface StoredEvent {
  id: string;
  kind: NotificationKind;
  environment: string;
  runId: string | null;
  payload: NotificationPayload;
  createdAt: Date;
}

/** Whom one delivery is for: a rule, or a subscriber (by their subscription). */
export type DeliveryTarget = { kind: 'rule'; ruleId: string } | { kind: 'user'; userId: string; subscriptionId: string };

export function targetKey(target: DeliveryTarget): string {
  return target.kind === 'rule' ? `rule-${target.ruleId}` : `user-${target.userId}`;
}

/** What a delivery sends through: the channel connection, where on it, in which language. */
export interface ResolvedTarget {
  connectionId: string;
  recipient?: string;
  locale: Locale;
  ruleId?: string;
  subscriptionId?: string;
}

export interface DeliveryView {
  id: string;
  eventId: string;
  kind: string;
  environment: string;
  runId: string | null;
  target: string;
  ruleId: string | null;
  subscriptionId: string | null;
  channel: string;
  recipient: string;
  status: 'sent' | 'failed' | 'retrying';
  attempts: number;
  lastError: string | null;
  eventCreatedAt: string;
  createdAt: string;
  sentAt: string | null;
}

interface SubscriberRow {
  subscription_id: string;
  user_id: string;
  email: string;
  roles: string[];
}

/** Run events go to the run's starter; approvals waiting (or near their deadline) to those who may decide them, never the starter. */
export function subscriberWants(kind: NotificationKind, payload: NotificationPayload, subscriber: { email: string; roles: readonly string[] }): boolean {
  if (subscriber.roles.length === 0) return false;
  if (kind === 'approval.waiting' || kind === 'approval.deadline-near') {
    const step = payload.step;
    if (!step || subscriber.email === payload.startedBy) return false;
    const blocker = approvalBlocker({
      user: subscriber.email,
      roles: subscriber.roles as readonly Role[],
      startedBy: payload.startedBy,
      step: {
        status: 'waiting',
        approval: { role: step.role as Role, allowStarter: step.allowStarter, approvedBy: step.approvedBy.map((user) => ({ user, at: '' })), ...(step.deadline ? { deadline: step.deadline } : {}) },
      },
      decision: 'approve',
      // A deadline-near event is sent before the deadline by construction; the rule is about role and four-eyes here.
      now: 0,
    });
    return blocker === undefined;
  }
  if (kind.startsWith('run.') || kind === 'approval.decided') return payload.startedBy === subscriber.email;
  // Node, schedule and trigger events: the environment's admins.
  return subscriber.roles.includes('admin');
}

export class NotificationStore {
  constructor(private readonly pool: pg.Pool) {}

  async event(id: string): Promise<StoredEvent | undefined> {
    const { rows } = await this.pool.query<{ id: string; kind: NotificationKind; environment: string; run_id: string | null; payload: NotificationPayload; created_at: Date }>(
      'SELECT id, kind, environment, run_id, payload, created_at FROM notification_events WHERE id = $1',
      [id],
    );
    const row = rows[0];
    return row ? { id: row.id, kind: row.kind, environment: row.environment, runId: row.run_id, payload: row.payload, createdAt: row.created_at } : undefined;
  }

  /** Every rule and subscriber an event goes to, now. */
  async targetsOf(event: Pick<StoredEvent, 'kind' | 'environment' | 'payload'>, client: Pick<pg.Pool, 'query'> = this.pool): Promise<DeliveryTarget[]> {
    const rules = await client.query<{ id: string }>(
      `SELECT r.id FROM notification_rules r JOIN environments e ON e.id = r.environment_id
       WHERE e.name = $1 AND r.enabled AND r.events ? $2 AND (r.runbook IS NULL OR r.runbook = $3) ORDER BY r.created_at`,
      [event.environment, event.kind, event.payload.runbook ?? null],
    );
    const subscribers = await client.query<SubscriberRow>(
      `SELECT DISTINCT ON (u.id) s.id AS subscription_id, u.id AS user_id, u.email,
              ARRAY(SELECT g.role::text FROM role_grants g WHERE g.user_id = u.id AND g.environment_id = e.id) AS roles
       FROM notification_subscriptions s JOIN users u ON u.id = s.user_id JOIN environments e ON e.id = s.environment_id
       WHERE e.name = $1 AND s.events ? $2 AND NOT u.disabled ORDER BY u.id, s.created_at`,
      [event.environment, event.kind],
    );
    return [
      ...rules.rows.map((row): DeliveryTarget => ({ kind: 'rule', ruleId: row.id })),
      ...subscribers.rows.filter((row) => subscriberWants(event.kind, event.payload, row)).map((row): DeliveryTarget => ({ kind: 'user', userId: row.user_id, subscriptionId: row.subscription_id })),
    ];
  }

  /** The channel, recipient and language of a target as they are now; undefined when it is gone or has no channel. */
  async resolveTarget(target: DeliveryTarget, environment: string): Promise<ResolvedTarget | undefined> {
    if (target.kind === 'rule') {
      const { rows } = await this.pool.query<{ connection_id: string; recipient: string | null; locale: string }>('SELECT connection_id, recipient, locale FROM notification_rules WHERE id = $1', [
        target.ruleId,
      ]);
      const row = rows[0];
      if (!row) return undefined;
      return { connectionId: row.connection_id, ...(row.recipient ? { recipient: row.recipient } : {}), locale: localeOf(row.locale), ruleId: target.ruleId };
    }
    const { rows } = await this.pool.query<{ email: string; locale: string; connection_id: string | null; type: string | null }>(
      `SELECT u.email, u.locale, c.id AS connection_id, c.type
       FROM notification_subscriptions s JOIN users u ON u.id = s.user_id
       LEFT JOIN notification_defaults d ON d.environment_id = s.environment_id
       LEFT JOIN connections c ON c.id = COALESCE(s.connection_id, d.connection_id)
       WHERE s.id = $1 AND u.id = $2`,
      [target.subscriptionId, target.userId],
    );
    const row = rows[0];
    void environment;
    if (!row?.connection_id) return undefined;
    // E-mail goes to the user's address; other channels to the place their connection names.
    return { connectionId: row.connection_id, ...(row.type === 'smtp' ? { recipient: row.email } : {}), locale: localeOf(row.locale), subscriptionId: target.subscriptionId };
  }

  /** A connection by id with its environment's name, for the worker's connection resolver. */
  async connectionName(id: string): Promise<{ name: string; environment: string; type: string } | undefined> {
    const { rows } = await this.pool.query<{ name: string; environment: string; type: string }>(
      'SELECT c.name, e.name AS environment, c.type FROM connections c JOIN environments e ON e.id = c.environment_id WHERE c.id = $1',
      [id],
    );
    return rows[0];
  }

  /** The last lines a step logged (already redacted when stored), oldest first. */
  async lastLines(runId: string, stepId: string, count: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ text: string }>(
      `SELECT text FROM (SELECT seq, text FROM run_log_lines WHERE run_id = $1 AND step_id = $2 AND stream <> 'system' ORDER BY seq DESC LIMIT $3) last ORDER BY seq`,
      [runId, stepId, count],
    );
    return rows.map((row) => row.text);
  }

  /** Whether this event already reached this target (a delivery started again after Temporal forgot the first). */
  async alreadySent(eventId: string, target: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(`SELECT 1 FROM notification_deliveries WHERE event_id = $1 AND target = $2 AND status = 'sent'`, [eventId, target]);
    return Boolean(rowCount);
  }

  /** One attempt of a delivery: the row is created by the first and updated by each later one. */
  async recordAttempt(input: { event: StoredEvent; target: string; resolved?: ResolvedTarget; channel: string; status: DeliveryView['status']; attempt: number; error?: string }): Promise<void> {
    await this.pool.query(
      `INSERT INTO notification_deliveries (id, event_id, target, rule_id, subscription_id, connection_id, channel, recipient, status, attempts, last_error, event_created_at, sent_at)
       VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, CASE WHEN $8 = 'sent' THEN now() END)
       ON CONFLICT (event_id, target) DO UPDATE SET status = EXCLUDED.status, attempts = GREATEST(notification_deliveries.attempts, EXCLUDED.attempts),
         last_error = COALESCE(EXCLUDED.last_error, notification_deliveries.last_error), channel = EXCLUDED.channel, recipient = EXCLUDED.recipient,
         connection_id = EXCLUDED.connection_id, sent_at = COALESCE(notification_deliveries.sent_at, EXCLUDED.sent_at), updated_at = now()`,
      [
        input.event.id,
        input.target,
        input.resolved?.ruleId ?? null,
        input.resolved?.subscriptionId ?? null,
        input.resolved?.connectionId ?? null,
        input.channel,
        input.resolved?.recipient ?? '',
        input.status,
        input.attempt,
        input.error?.slice(0, 2_000) ?? null,
        input.event.createdAt,
      ],
    );
  }

  /** Event-to-delivered latencies (ms) of deliveries sent since `since`, for benchmarks and metrics. */
  async deliveryLatencies(since: Date): Promise<number[]> {
    const { rows } = await this.pool.query<{ ms: number }>(
      `SELECT (extract(epoch FROM sent_at - event_created_at) * 1000)::float8 AS ms FROM notification_deliveries WHERE sent_at IS NOT NULL AND sent_at >= $1 ORDER BY ms`,
      [since],
    );
    return rows.map((row) => row.ms);
  }

  async deliveries(filter: { environments: string[]; ruleId?: string; userId?: string; limit: number }): Promise<DeliveryView[]> {
    const { rows } = await this.pool.query<{
      id: string;
      event_id: string;
      kind: string;
      environment: string;
      run_id: string | null;
      target: string;
      rule_id: string | null;
      subscription_id: string | null;
      channel: string;
      recipient: string;
      status: DeliveryView['status'];
      attempts: number;
      last_error: string | null;
      event_created_at: Date;
      created_at: Date;
      sent_at: Date | null;
    }>(
      `SELECT d.*, ev.kind, ev.environment, ev.run_id FROM notification_deliveries d JOIN notification_events ev ON ev.id = d.event_id
       WHERE ev.environment = ANY($1) AND ($2::uuid IS NULL OR d.rule_id = $2) AND ($3::text IS NULL OR d.target = $3)
       ORDER BY d.created_at DESC LIMIT $4`,
      [filter.environments, filter.ruleId ?? null, filter.userId ? `user-${filter.userId}` : null, filter.limit],
    );
    return rows.map((row) => ({
      id: row.id,
      eventId: row.event_id,
      kind: row.kind,
      environment: row.environment,
      runId: row.run_id,
      target: row.target,
      ruleId: row.rule_id,
      subscriptionId: row.subscription_id,
      channel: row.channel,
      recipient: row.recipient,
      status: row.status,
      attempts: row.attempts,
      lastError: row.last_error,
      eventCreatedAt: row.event_created_at.toISOString(),
      createdAt: row.created_at.toISOString(),
      sentAt: row.sent_at?.toISOString() ?? null,
    }));
  }
}
