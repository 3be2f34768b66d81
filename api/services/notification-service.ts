// Notification rules (per environment, its admins), personal subscriptions,
// each environment's default e-mail channel, the users' language, "send a
// test" and the delivery log. Authorization is the routes' job; this service
// checks that what is named exists and belongs together.
import type pg from 'pg';
import { isChannelType } from '../../activities/notify/index.js';
import { JarvisProblem } from '../../manifest/errors.js';
import { isNotificationKind, type NotificationKind } from '../../notifications/events.js';
import type { NotificationDispatcher } from '../../notifications/dispatcher.js';
import { localeOf, type Locale } from '../../notifications/messages.js';
import type { DeliveryView, NotificationStore } from '../../notifications/notification-store.js';

export interface RuleView {
  id: string;
  environment: string;
  name: string;
  events: NotificationKind[];
  connectionId: string;
  channel: string;
  runbook: string | null;
  recipient: string | null;
  locale: Locale;
  enabled: boolean;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface SubscriptionView {
  id: string;
  environment: string;
  events: NotificationKind[];
  connectionId: string | null;
  createdAt: string;
}

export interface RuleInput {
  name: string;
  events: string[];
  connectionId: string;
  runbook?: string | null;
  recipient?: string | null;
  locale?: string;
  enabled?: boolean;
}

interface RuleRow {
  id: string;
  environment: string;
  name: string;
  events: NotificationKind[];
  connection_id: string;
  channel: string;
  runbook: string | null;
  recipient: string | null;
  locale: string;
  enabled: boolean;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

const RULE_SELECT = `SELECT r.*, e.name AS environment, c.type AS channel FROM notification_rules r
  JOIN environments e ON e.id = r.environment_id JOIN connections c ON c.id = r.connection_id`;

function ruleView(row: RuleRow): RuleView {
  return {
    id: row.id,
    environment: row.environment,
    name: row.name,
    events: row.events,
    connectionId: row.connection_id,
    channel: row.channel,
    runbook: row.runbook,
    recipient: row.recipient,
    locale: localeOf(row.locale),
    enabled: row.enabled,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function checkedEvents(events: string[]): NotificationKind[] {
  const unknown = events.filter((kind) => !isNotificationKind(kind));
  if (unknown.length > 0) throw new JarvisProblem(`unknown event kinds: ${unknown.join(', ')}`, 'invalid');
  if (events.length === 0) throw new JarvisProblem('name at least one event', 'invalid');
  return [...new Set(events)] as NotificationKind[];
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string }).code === '23505';
}

export class NotificationService {
  constructor(
    private readonly pool: pg.Pool,
    private readonly store: NotificationStore,
    private readonly dispatcher: NotificationDispatcher,
  ) {}

  private async environmentId(name: string): Promise<string> {
    const { rows } = await this.pool.query<{ id: string }>('SELECT id FROM environments WHERE name = $1', [name]);
    if (!rows[0]) throw new JarvisProblem(`no environment ${name}`, 'not-found');
    return rows[0].id;
  }

  /** A channel connection of that environment (a connection of another environment cannot be borrowed). */
  private async checkChannel(connectionId: string, environment: string, type?: string): Promise<void> {
    const { rows } = await this.pool.query<{ type: string; environment: string }>(
      'SELECT c.type, e.name AS environment FROM connections c JOIN environments e ON e.id = c.environment_id WHERE c.id = $1',
      [connectionId],
    );
    const row = rows[0];
    if (!row || row.environment !== environment) throw new JarvisProblem(`no connection ${connectionId} in ${environment}`, 'invalid');
    if (!isChannelType(row.type)) throw new JarvisProblem(`connection ${connectionId} is a ${row.type} connection, not a notification channel`, 'invalid');
    if (type && row.type !== type) throw new JarvisProblem(`connection ${connectionId} is a ${row.type} connection; this needs ${type}`, 'invalid');
  }

  async listRules(environments: string[]): Promise<RuleView[]> {
    const { rows } = await this.pool.query<RuleRow>(`${RULE_SELECT} WHERE e.name = ANY($1) ORDER BY e.name, r.name`, [environments]);
    return rows.map(ruleView);
  }

  async rule(id: string): Promise<RuleView> {
    const { rows } = await this.pool.query<RuleRow>(`${RULE_SELECT} WHERE r.id = $1`, [id]);
    if (!rows[0]) throw new JarvisProblem(`no notification rule ${id}`, 'not-found');
    return ruleView(rows[0]);
  }

  async createRule(environment: string, input: RuleInput, createdBy: string): Promise<RuleView> {
    const environmentId = await this.environmentId(environment);
    const events = checkedEvents(input.events);
    await this.checkChannel(input.connectionId, environment);
    const id = crypto.randomUUID();
    try {
      await this.pool.query(
        `INSERT INTO notification_rules (id, environment_id, name, events, connection_id, runbook, recipient, locale, enabled, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [id, environmentId, input.name, JSON.stringify(events), input.connectionId, input.runbook ?? null, input.recipient ?? null, localeOf(input.locale), input.enabled ?? true, createdBy],
      );
    } catch (error) {
      if (isUniqueViolation(error)) throw new JarvisProblem(`a notification rule named ${input.name} already exists in ${environment}`, 'conflict');
      throw error;
    }
    return this.rule(id);
  }

  async updateRule(id: string, changes: Partial<RuleInput>): Promise<RuleView> {
    const current = await this.rule(id);
    if (changes.connectionId) await this.checkChannel(changes.connectionId, current.environment);
    const events = changes.events ? checkedEvents(changes.events) : current.events;
    try {
      await this.pool.query(`UPDATE notification_rules SET name = $2, events = $3, connection_id = $4, runbook = $5, recipient = $6, locale = $7, enabled = $8, updated_at = now() WHERE id = $1`, [
        id,
        changes.name ?? current.name,
        JSON.stringify(events),
        changes.connectionId ?? current.connectionId,
        changes.runbook === undefined ? current.runbook : changes.runbook,
        changes.recipient === undefined ? current.recipient : changes.recipient,
        changes.locale === undefined ? current.locale : localeOf(changes.locale),
        changes.enabled ?? current.enabled,
      ]);
    } catch (error) {
      if (isUniqueViolation(error)) throw new JarvisProblem(`a notification rule named ${changes.name} already exists in ${current.environment}`, 'conflict');
      throw error;
    }
    return this.rule(id);
  }

  async removeRule(id: string): Promise<void> {
    await this.pool.query('DELETE FROM notification_rules WHERE id = $1', [id]);
  }

  /**
   * "Send a test": an event of the rule's first kind, marked as a test and as
   * dispatched (nobody else receives it), delivered to the rule by the same
   * workflow as every notification.
   */
  async sendTest(id: string, by: string): Promise<{ eventId: string; workflowId: string }> {
    const rule = await this.rule(id);
    const eventId = crypto.randomUUID();
    await this.pool.query(`INSERT INTO notification_events (id, kind, environment, payload, dedup_key, dispatched_at) VALUES ($1, $2, $3, $4, $5, now())`, [
      eventId,
      rule.events[0],
      rule.environment,
      JSON.stringify({ runbook: rule.runbook ?? 'test', startedBy: by, subject: `test of ${rule.name}`, reason: `a test sent by ${by}` }),
      `test:${eventId}`,
    ]);
    const workflowId = await this.dispatcher.startDelivery(eventId, { kind: 'rule', ruleId: id }, { test: true });
    return { eventId, workflowId };
  }

  async deliveries(filter: { environments: string[]; ruleId?: string; userId?: string; limit: number }): Promise<DeliveryView[]> {
    return this.store.deliveries(filter);
  }

  /** Event-to-delivered latencies (ms) since a time (bench:schedules). */
  async deliveryLatencies(since: Date): Promise<number[]> {
    return this.store.deliveryLatencies(since);
  }

  async listSubscriptions(userId: string): Promise<SubscriptionView[]> {
    const { rows } = await this.pool.query<{ id: string; environment: string; events: NotificationKind[]; connection_id: string | null; created_at: Date }>(
      `SELECT s.id, e.name AS environment, s.events, s.connection_id, s.created_at FROM notification_subscriptions s
       JOIN environments e ON e.id = s.environment_id WHERE s.user_id = $1 ORDER BY e.name, s.created_at`,
      [userId],
    );
    return rows.map((row) => ({ id: row.id, environment: row.environment, events: row.events, connectionId: row.connection_id, createdAt: row.created_at.toISOString() }));
  }

  async subscribe(userId: string, input: { environment: string; events: string[]; connectionId?: string }): Promise<SubscriptionView> {
    const environmentId = await this.environmentId(input.environment);
    const events = checkedEvents(input.events);
    // A personal subscription reaches its user only: by e-mail. A team's channel (Slack, a webhook) is an admin's rule.
    if (input.connectionId) await this.checkChannel(input.connectionId, input.environment, 'smtp');
    const id = crypto.randomUUID();
    await this.pool.query('INSERT INTO notification_subscriptions (id, user_id, environment_id, events, connection_id) VALUES ($1, $2, $3, $4, $5)', [
      id,
      userId,
      environmentId,
      JSON.stringify(events),
      input.connectionId ?? null,
    ]);
    return (await this.listSubscriptions(userId)).find((subscription) => subscription.id === id)!;
  }

  /** Removes one of the user's own subscriptions; another user's is "not found". */
  async unsubscribe(userId: string, id: string): Promise<void> {
    const { rowCount } = await this.pool.query('DELETE FROM notification_subscriptions WHERE id = $1 AND user_id = $2', [id, userId]);
    if (!rowCount) throw new JarvisProblem(`no subscription ${id} of yours`, 'not-found');
  }

  /** The SMTP connection personal subscriptions of an environment are e-mailed through; null clears it. */
  async setDefaultChannel(environment: string, connectionId: string | null): Promise<{ environment: string; connectionId: string | null }> {
    const environmentId = await this.environmentId(environment);
    if (connectionId === null) {
      await this.pool.query('DELETE FROM notification_defaults WHERE environment_id = $1', [environmentId]);
    } else {
      await this.checkChannel(connectionId, environment, 'smtp');
      await this.pool.query(`INSERT INTO notification_defaults (environment_id, connection_id) VALUES ($1, $2) ON CONFLICT (environment_id) DO UPDATE SET connection_id = EXCLUDED.connection_id`, [
        environmentId,
        connectionId,
      ]);
    }
    return { environment, connectionId };
  }

  async defaultChannels(environments: string[]): Promise<Array<{ environment: string; connectionId: string }>> {
    const { rows } = await this.pool.query<{ environment: string; connection_id: string }>(
      'SELECT e.name AS environment, d.connection_id FROM notification_defaults d JOIN environments e ON e.id = d.environment_id WHERE e.name = ANY($1) ORDER BY e.name',
      [environments],
    );
    return rows.map((row) => ({ environment: row.environment, connectionId: row.connection_id }));
  }

  async locale(userId: string): Promise<Locale> {
    const { rows } = await this.pool.query<{ locale: string }>('SELECT locale FROM users WHERE id = $1', [userId]);
    return localeOf(rows[0]?.locale);
  }

  async setLocale(userId: string, locale: Locale): Promise<Locale> {
    await this.pool.query('UPDATE users SET locale = $2 WHERE id = $1', [userId, locale]);
    return locale;
  }
}
