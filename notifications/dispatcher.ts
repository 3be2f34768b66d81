// Hands each event of the outbox to its recipients: one delivery workflow per
// (event, target) with a deterministic id, then marks the event dispatched, in
// one transaction holding the event's row (FOR UPDATE SKIP LOCKED, so API
// replicas share the work). A dispatcher that dies between starting workflows
// and marking leaves the event to the next one, whose starts then find the
// workflows already there: nobody is notified twice. Woken by NOTIFY, and
// polling slowly for wake-ups lost while it was away. It also writes the
// "approval deadline near" events, from the approvals the projection knows.
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import pg from 'pg';
import { reportIdleConnectionError } from '../db/pool-errors.js';
import type { RunSummaryStore } from '../runs/run-summary-store.js';
import { insertNotificationEvents, type NewNotificationEvent, type NotificationKind, type NotificationPayload } from './events.js';
import type { DeliveryInput } from './notification-activities.js';
import { targetKey, type DeliveryTarget, type NotificationStore } from './notification-store.js';

export const NOTIFICATION_CHANNEL = 'jarvis_notification_events';

export function deliveryWorkflowId(eventId: string, target: DeliveryTarget): string {
  return `notify--${eventId}--${targetKey(target)}`;
}

export interface DispatcherOptions {
  taskQueue: string;
  /** The slow poll behind NOTIFY. */
  pollMs?: number;
  /** How long before an approval's deadline it is notified. */
  deadlineWindowMs?: number;
  batchSize?: number;
  /** How long dispatched events (and their delivery log) are kept. */
  retentionMs?: number;
  /** Crash points for tests. */
  hooks?: { afterStarts?: (eventId: string) => void | Promise<void> };
}

export class NotificationDispatcher {
  private listener: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private lastSweep = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly databaseUrl: string,
    private readonly temporal: Client,
    private readonly store: NotificationStore,
    private readonly runSummaries: RunSummaryStore,
    private readonly options: DispatcherOptions,
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
    await this.listen().catch((error: unknown) => console.warn(`[jarvis] notification dispatcher cannot LISTEN yet (${String(error)}); polling`));
    this.timer = setInterval(() => {
      if (!this.listener) void this.listen().catch(() => undefined);
      this.kick();
    }, this.options.pollMs ?? 5_000);
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
    await this.running;
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl, application_name: 'jarvis-notification-dispatcher' });
    const lost = () => {
      if (this.listener === client) this.listener = undefined;
      void client.end().catch(() => undefined);
    };
    client.on('error', (error) => {
      reportIdleConnectionError(error);
      lost();
    });
    client.on('end', lost);
    client.on('notification', () => this.kick());
    await client.connect();
    await client.query(`LISTEN ${NOTIFICATION_CHANNEL}`);
    if (this.stopped) {
      await client.end();
      return;
    }
    this.listener = client;
  }

  /** Runs a dispatch pass now, or right after the one under way. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        this.kick();
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      // Deadlines move slowly: one sweep per poll interval, however often events wake the dispatcher.
      if (Date.now() - this.lastSweep >= (this.options.pollMs ?? 5_000)) {
        this.lastSweep = Date.now();
        await this.sweepDeadlines();
        await this.forgetOldEvents();
      }
      while (!this.stopped && (await this.dispatchBatch()) > 0);
    } catch (error) {
      console.error('[jarvis] notification dispatch failed; retrying at the next poll', error);
    }
  }

  /** Dispatches up to one batch of events; answers how many. */
  async dispatchBatch(): Promise<number> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ id: string; kind: NotificationKind; environment: string; payload: NotificationPayload }>(
        `SELECT id, kind, environment, payload FROM notification_events WHERE dispatched_at IS NULL ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.options.batchSize ?? 20],
      );
      for (const event of rows) {
        for (const target of await this.store.targetsOf(event, client)) await this.startDelivery(event.id, target);
        await this.options.hooks?.afterStarts?.(event.id);
        await client.query('UPDATE notification_events SET dispatched_at = now() WHERE id = $1', [event.id]);
      }
      await client.query('COMMIT');
      return rows.length;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** Starts one delivery; a workflow of that id already there is the same delivery (started before a crash). */
  async startDelivery(eventId: string, target: DeliveryTarget, extra: Pick<DeliveryInput, 'test'> = {}): Promise<string> {
    const workflowId = deliveryWorkflowId(eventId, target);
    try {
      await this.temporal.workflow.start('deliverNotification', {
        taskQueue: this.options.taskQueue,
        workflowId,
        // A delivery that finished is not started again either (ALLOW_DUPLICATE, the default, would send twice).
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        args: [{ eventId, target, ...extra }],
      });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
    return workflowId;
  }

  /** Dispatched events past the retention (30 days by default) go, with their deliveries. */
  async forgetOldEvents(): Promise<void> {
    await this.pool.query(`DELETE FROM notification_events WHERE dispatched_at < now() - make_interval(secs => $1)`, [(this.options.retentionMs ?? 30 * 86_400_000) / 1000]);
  }

  /** "Approval deadline near" for each waiting approval whose deadline falls within the window, once per step and deadline. */
  async sweepDeadlines(now = Date.now()): Promise<void> {
    const window = this.options.deadlineWindowMs ?? 15 * 60_000;
    const { rows } = await this.pool.query<{ name: string }>('SELECT name FROM environments');
    const waiting = await this.runSummaries.waitingApprovals(rows.map((row) => row.name));
    const events: NewNotificationEvent[] = [];
    for (const approval of waiting) {
      const deadline = approval.step.approval?.deadline;
      if (!deadline || !approval.step.approval) continue;
      const left = Date.parse(deadline) - now;
      if (left <= 0 || left > window) continue;
      const { role, required, allowStarter, approvedBy } = approval.step.approval;
      events.push({
        kind: 'approval.deadline-near',
        environment: approval.environment,
        runId: approval.runId,
        payload: {
          runId: approval.runId,
          runbook: approval.runbook,
          startedBy: approval.startedBy,
          status: 'running',
          step: { id: approval.step.id, ...(approval.step.title ? { title: approval.step.title } : {}), role, required, allowStarter, deadline, approvedBy: approvedBy.map((given) => given.user) },
        },
        dedupKey: `run:${approval.runId}:approval.deadline-near:${approval.step.id}:${deadline}`,
      });
    }
    await insertNotificationEvents(this.pool, events);
  }
}
