// A delivery to a trigger's URL, from raw request to answer: refuse what its
// secret did not sign, what comes while it is disabled or over its rate limit,
// what is not JSON, and everything when its owner may no longer run the
// runbook there (audited as trigger.refused); then filter, map the body to
// inputs and start the run once per dedup key (Alertmanager: once per firing
// alert). Every outcome is written to the trigger's delivery log.
import { createHash, randomUUID } from 'node:crypto';
import type { Database } from '../../db/database.js';
import { JarvisProblem, type ManifestError } from '../../manifest/errors.js';
import type { ExpressionScope } from '../../manifest/expression.js';
import { evaluateCondition, renderString, renderValue } from '../../manifest/template.js';
import { idempotencyToken } from '../../runs/run-ids.js';
import type { StartRunRequest } from '../../runs/run-starts.js';
import type { StartedRun } from '../../runs/run-contract.js';
import type { Principal } from '../rbac.js';
import type { AuditService } from './audit-service.js';
import { readAlertmanagerAlerts, verifyTriggerRequest, type AlertmanagerAlert } from './trigger-requests.js';
import type { TriggerForDelivery, TriggerService } from './trigger-service.js';

type Headers = Record<string, string | string[] | undefined>;

export type DeliveryOutcome = 'started' | 'duplicate' | 'filtered' | 'refused' | 'invalid' | 'unauthorized' | 'rate-limited' | 'disabled' | 'conflict' | 'resolved' | 'failed';

/** A delivery refused because the trigger's owner may no longer start its runbook there. */
export interface TriggerRefusal {
  triggerId: string;
  triggerName: string;
  environment: string;
  runbook: string;
  ownerId: string | null;
  ownerEmail: string | null;
  reason: string;
}

/** A resolved alert an alertmanager trigger recorded. */
export interface ResolvedAlert {
  triggerId: string;
  triggerName: string;
  environment: string;
  runbook: string;
  alert: AlertmanagerAlert;
}

/** Where the product hears of what triggers do (notifications wire these); a listener that fails never changes the answer. */
export interface TriggerEvents {
  onRefused?(refusal: TriggerRefusal): void | Promise<void>;
  onAlertResolved?(resolved: ResolvedAlert): void | Promise<void>;
}

export interface WebhookAnswer {
  started: boolean;
  runId?: string;
  duplicate?: boolean;
  reason?: string;
}

export interface AlertResult {
  fingerprint: string;
  status: AlertmanagerAlert['status'];
  outcome: DeliveryOutcome;
  runId?: string;
  reason?: string;
}

export type DeliveryResult =
  | { status: 200 | 201 | 202; answer: WebhookAnswer }
  | { status: 200; answer: { results: AlertResult[] } }
  | { status: 400 | 401 | 403 | 404 | 409 | 422 | 429; detail: string; errors?: ManifestError[]; retryAfterSeconds?: number };

/** Starts runs as StartRunRequest says (RunService.startRun). */
export type StartRun = (request: StartRunRequest) => Promise<StartedRun>;

const RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

/** Headers a filter or mapping may read: never the credentials the request carries. */
const HIDDEN_HEADERS = new Set(['authorization', 'cookie', 'x-jarvis-signature', 'x-hub-signature', 'x-hub-signature-256', 'x-gitea-signature', 'x-gogs-signature', 'x-gitlab-token']);

function visibleHeaders(headers: Headers): Record<string, string> {
  const visible: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HIDDEN_HEADERS.has(name.toLowerCase())) continue;
    visible[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return visible;
}

/** The mapping rendered over the delivery; what the body holds stays data (renderString never reads a rendered value as a template). */
function mapInputs(mapping: Record<string, unknown>, scope: ExpressionScope): Record<string, unknown> {
  const rendered = renderValue(mapping, scope) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(rendered).filter(([, value]) => value !== undefined));
}

interface Delivery {
  trigger: TriggerForDelivery;
  requestId: string;
  bodySha256: string;
  bodyBytes: number;
  /** The row that took this delivery's place under the rate limit, until its outcome is written into it. */
  slot?: bigint;
}

type StartOutcome = { ok: true; outcome: 'started' | 'duplicate'; runId: string } | { ok: false; outcome: 'invalid' | 'conflict'; reason: string; errors: ManifestError[] };

export class TriggerReceiver {
  constructor(
    private readonly triggers: TriggerService,
    private readonly db: Database,
    private readonly startRun: StartRun,
    private readonly audit: AuditService,
    private readonly events: TriggerEvents = {},
  ) {}

  async receive(id: string, headers: Headers, body: Buffer): Promise<DeliveryResult> {
    const trigger = await this.triggers.forDelivery(id);
    // An unknown id is checked against a secret nobody has, so it costs what a wrong signature costs.
    const verdict = verifyTriggerRequest(trigger?.auth ?? 'hmac', trigger?.secret, headers, body);
    if (!trigger) return { status: 404, detail: `no trigger ${id}` };
    const delivery: Delivery = { trigger, requestId: randomUUID(), bodySha256: createHash('sha256').update(body).digest('hex'), bodyBytes: body.length };
    if (!verdict.ok) {
      await this.record(delivery, 'unauthorized', { reason: verdict.reason });
      return { status: 401, detail: verdict.reason };
    }
    if (!trigger.enabled) {
      await this.record(delivery, 'disabled', { reason: 'the trigger is disabled' });
      return { status: 409, detail: `trigger ${trigger.name} is disabled; nothing was started` };
    }
    const retryAfter = await this.claimSlot(delivery);
    if (retryAfter !== undefined) {
      await this.record(delivery, 'rate-limited', { reason: `over ${trigger.rateLimitPerMinute} deliveries per minute` });
      return { status: 429, detail: `trigger ${trigger.name} takes at most ${trigger.rateLimitPerMinute} deliveries per minute; nothing was started`, retryAfterSeconds: retryAfter };
    }
    try {
      const result = await this.receiveAdmitted(delivery, headers, body);
      if (delivery.slot !== undefined) await this.record(delivery, 'filtered', { reason: 'the notification holds no alerts' });
      return result;
    } catch (error) {
      // The log says the delivery came and failed (Temporal unreachable...), not that it is still being handled.
      if (delivery.slot !== undefined) await this.record(delivery, 'failed', { reason: 'the run could not be started; the error is in the API log' }).catch(() => undefined);
      throw error;
    }
  }

  private async receiveAdmitted(delivery: Delivery, headers: Headers, body: Buffer): Promise<DeliveryResult> {
    const { trigger } = delivery;
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      await this.record(delivery, 'invalid', { reason: 'the body is not JSON' });
      return { status: 400, detail: 'the body is not JSON; nothing was started' };
    }
    const owner = await this.ownerAllowed(trigger);
    if (!owner.ok) {
      await this.refuse(delivery, owner.reason);
      return { status: 403, detail: `${owner.reason}; nothing was started` };
    }
    return trigger.kind === 'alertmanager' ? this.receiveAlerts(delivery, owner.principal, parsed) : this.receiveWebhook(delivery, owner.principal, parsed, headers);
  }

  private async receiveWebhook(delivery: Delivery, owner: Principal, body: unknown, headers: Headers): Promise<DeliveryResult> {
    const { trigger } = delivery;
    const scope = { body, headers: visibleHeaders(headers) };
    if (trigger.filter && !evaluateCondition(trigger.filter, scope)) {
      const reason = `the filter ${trigger.filter} is false for this delivery`;
      await this.record(delivery, 'filtered', { reason });
      return { status: 202, answer: { started: false, reason } };
    }
    const named = trigger.dedupKey ? renderString(trigger.dedupKey, scope) : undefined;
    const dedupKey = named === undefined || named === null || named === '' ? `sha256:${delivery.bodySha256}` : `key:${typeof named === 'string' ? named : JSON.stringify(named)}`;
    const started = await this.start(delivery, owner, mapInputs(trigger.inputs, scope), idempotencyToken(trigger.id, dedupKey));
    if (!started.ok) return started.outcome === 'invalid' ? { status: 422, detail: started.reason, errors: started.errors } : { status: 409, detail: started.reason };
    await this.record(delivery, started.outcome, { runId: started.runId });
    return started.outcome === 'duplicate' ? { status: 200, answer: { started: true, runId: started.runId, duplicate: true } } : { status: 201, answer: { started: true, runId: started.runId } };
  }

  private async receiveAlerts(delivery: Delivery, owner: Principal, body: unknown): Promise<DeliveryResult> {
    const { trigger } = delivery;
    const read = readAlertmanagerAlerts(body);
    if (!read.ok) {
      await this.record(delivery, 'invalid', { reason: read.reason });
      return { status: 400, detail: `${read.reason}; nothing was started` };
    }
    const results: AlertResult[] = [];
    for (const alert of read.alerts) {
      const base = { fingerprint: alert.fingerprint, status: alert.status };
      const about = { alertFingerprint: alert.fingerprint };
      if (alert.status === 'resolved') {
        await this.record(delivery, 'resolved', { ...about, reason: `resolved at ${alert.endsAt}` });
        await this.tell(() => this.events.onAlertResolved?.({ triggerId: trigger.id, triggerName: trigger.name, environment: trigger.environment, runbook: trigger.runbook, alert }));
        results.push({ ...base, outcome: 'resolved' });
        continue;
      }
      const scope = { alert, body };
      if (trigger.filter && !evaluateCondition(trigger.filter, scope)) {
        const reason = `the filter ${trigger.filter} is false for this alert`;
        await this.record(delivery, 'filtered', { ...about, reason });
        results.push({ ...base, outcome: 'filtered', reason });
        continue;
      }
      // Once per firing: Alertmanager repeats a firing alert every repeat_interval with the same fingerprint and startsAt.
      const token = idempotencyToken(trigger.id, `alert\n${alert.fingerprint}\n${alert.startsAt}`);
      const started = await this.start(delivery, owner, mapInputs(trigger.inputs, scope), token, about);
      if (!started.ok) {
        results.push({ ...base, outcome: started.outcome, reason: started.reason });
        continue;
      }
      await this.record(delivery, started.outcome, { ...about, runId: started.runId });
      results.push({ ...base, outcome: started.outcome, runId: started.runId });
    }
    return { status: 200, answer: { results } };
  }

  /** Starts the run as the owner; inputs the runbook refuses and busy concurrency keys are recorded and answered, not thrown. */
  private async start(delivery: Delivery, owner: Principal, inputs: Record<string, unknown>, idempotency: string, about: { alertFingerprint?: string } = {}): Promise<StartOutcome> {
    const { trigger } = delivery;
    try {
      const started = await this.startRun({ runbook: trigger.runbook, inputs, environment: trigger.environment, startedBy: owner.email, idempotency });
      return { ok: true, outcome: started.replayed ? 'duplicate' : 'started', runId: started.id };
    } catch (error) {
      if (!(error instanceof JarvisProblem) || error.kind === 'forbidden' || error.kind === 'unavailable') throw error;
      const reason = error.message.split('\n')[0] ?? error.message;
      const outcome = error.kind === 'conflict' ? 'conflict' : 'invalid';
      const detail = error.errors.length > 0 ? `${reason} ${error.errors.map((entry) => `${entry.path}: ${entry.message}`).join('; ')}` : reason;
      await this.record(delivery, outcome, { ...about, reason: detail });
      return { ok: false, outcome, reason: detail, errors: error.errors };
    }
  }

  private async ownerAllowed(trigger: TriggerForDelivery): Promise<{ ok: true; principal: Principal } | { ok: false; reason: string }> {
    const principal = await this.triggers.principalOf(trigger.ownerId);
    if (!principal) return { ok: false, reason: `the owner of trigger ${trigger.name} no longer exists or is disabled` };
    let allowed: boolean;
    try {
      allowed = this.triggers.mayRun(principal, trigger.runbook, trigger.environment);
    } catch (error) {
      if (error instanceof JarvisProblem) return { ok: false, reason: `runbook ${trigger.runbook} cannot be started: ${error.message.split('\n')[0]}` };
      throw error;
    }
    if (!allowed) return { ok: false, reason: `${principal.email}, the owner of trigger ${trigger.name}, may no longer start ${trigger.runbook} in ${trigger.environment}` };
    return { ok: true, principal };
  }

  private async refuse(delivery: Delivery, reason: string): Promise<void> {
    const { trigger } = delivery;
    await this.record(delivery, 'refused', { reason });
    await this.audit.record({
      ...(trigger.ownerId ? { actorId: trigger.ownerId } : {}),
      ...(trigger.ownerEmail ? { actorEmail: trigger.ownerEmail } : {}),
      action: 'trigger.refused',
      targetType: 'trigger',
      targetId: trigger.id,
      outcome: 'denied',
      details: { trigger: trigger.name, runbook: trigger.runbook, environment: trigger.environment, reason, requestId: delivery.requestId },
    });
    const refusal = { triggerId: trigger.id, triggerName: trigger.name, environment: trigger.environment, runbook: trigger.runbook, ownerId: trigger.ownerId, ownerEmail: trigger.ownerEmail, reason };
    await this.tell(() => this.events.onRefused?.(refusal));
  }

  /** A listener that fails must not turn the answer into a 5xx (Alertmanager would resend): it is logged, and the delivery log and audit stand. */
  private async tell(listener: () => void | Promise<void>): Promise<void> {
    try {
      await listener();
    } catch (error) {
      console.error('a trigger event listener failed', error);
    }
  }

  /**
   * Takes a place under the trigger's rate limit (a row, whose outcome is
   * written later), or answers the seconds until one frees up. Concurrent
   * deliveries to one trigger queue on a lock, so a burst cannot overshoot the
   * limit. Deliveries refused unread (bad signature, disabled) take no place.
   */
  private async claimSlot(delivery: Delivery): Promise<number | undefined> {
    const { trigger } = delivery;
    return this.db.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT 1 AS locked FROM pg_advisory_xact_lock(hashtext(${`trigger-rate:${trigger.id}`}))`;
      const [window] = await tx.$queryRaw<Array<{ deliveries: number; retryAfter: number | null }>>`
        SELECT count(DISTINCT request_id)::int AS deliveries,
               ceil(extract(epoch FROM min(received_at) + interval '1 minute' - now()))::int AS "retryAfter"
        FROM trigger_deliveries
        WHERE trigger_id = ${trigger.id}::uuid AND received_at > now() - interval '1 minute' AND outcome NOT IN ('unauthorized', 'rate-limited', 'disabled')`;
      if (window && window.deliveries >= trigger.rateLimitPerMinute) return Math.max(1, window.retryAfter ?? 60);
      await tx.triggerDelivery.deleteMany({ where: { triggerId: trigger.id, receivedAt: { lt: new Date(Date.now() - RETENTION_MS) } } });
      const row = await tx.triggerDelivery.create({
        data: { triggerId: trigger.id, requestId: delivery.requestId, outcome: 'received', bodySha256: delivery.bodySha256, bodyBytes: delivery.bodyBytes },
        select: { id: true },
      });
      delivery.slot = row.id;
      return undefined;
    });
  }

  private async record(delivery: Delivery, outcome: DeliveryOutcome, details: { runId?: string; reason?: string; alertFingerprint?: string }): Promise<void> {
    const written = { outcome, runId: details.runId ?? null, reason: details.reason?.slice(0, 2000) ?? null, alertFingerprint: details.alertFingerprint?.slice(0, 200) ?? null };
    if (delivery.slot !== undefined) {
      const slot = delivery.slot;
      delete delivery.slot;
      await this.db.triggerDelivery.update({ where: { id: slot }, data: written });
      return;
    }
    await this.db.triggerDelivery.deleteMany({ where: { triggerId: delivery.trigger.id, receivedAt: { lt: new Date(Date.now() - RETENTION_MS) } } });
    await this.db.triggerDelivery.create({ data: { triggerId: delivery.trigger.id, requestId: delivery.requestId, bodySha256: delivery.bodySha256, bodyBytes: delivery.bodyBytes, ...written } });
  }
}
