// What nodes earn for a period, from their verified contribution: the share of
// health checks they answered (node_health_samples) times the period's hours
// at the uptime rate, plus each step their agent completed (Temporal's
// histories, cooperative/node-work.ts) at the step rate; the rates are the
// ones governance set. Paid from the issuance account once per period and
// node: the transfer's idempotency key names both, and the period's row is
// written once, so computing a period again credits nothing.
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { CooperativeSettings, EarningRates } from './cooperative-settings.js';
import { ISSUANCE_ACCOUNT_ID, type Ledger } from './ledger.js';
import { nodeWorkIn } from './node-work.js';

export interface Period {
  start: Date;
  end: Date;
}

export interface Earning {
  nodeId: string;
  node: string;
  periodStart: string;
  periodEnd: string;
  checksOk: number;
  checksFailed: number;
  stepsDone: number;
  stepsFailed: number;
  credits: number;
  transferId: string | null;
  /** Computed by an earlier run of this period: nothing was credited now. */
  replayed: boolean;
}

export const EARNINGS_REQUESTER = 'system:earnings';
const HOUR_MS = 3_600_000;

/** The formula: whole credits, rounded down. */
export function creditsFor(period: Period, checks: { ok: number; failed: number }, work: { done: number }, rates: EarningRates): number {
  const answered = checks.ok + checks.failed === 0 ? 0 : checks.ok / (checks.ok + checks.failed);
  const hours = (period.end.getTime() - period.start.getTime()) / HOUR_MS;
  return Math.floor(hours * answered * rates.uptimeCreditsPerHour) + work.done * rates.creditsPerStep;
}

/** The period of `length` that ended last at or before `at` (periods are aligned on the epoch). */
export function periodBefore(at: Date, lengthMs: number): Period {
  const end = Math.floor(at.getTime() / lengthMs) * lengthMs;
  return { start: new Date(end - lengthMs), end: new Date(end) };
}

interface EarningRow {
  period_start: Date;
  period_end: Date;
  node_id: string;
  checks_ok: number;
  checks_failed: number;
  steps_done: number;
  steps_failed: number;
  credits: string;
  transfer_id: string | null;
}

export class Earnings {
  constructor(
    private readonly pool: pg.Pool,
    private readonly ledger: Ledger,
    private readonly settings: CooperativeSettings,
    private readonly temporal: Client,
  ) {}

  /** Computes and pays a closed period for every node; `heartbeat` is called as it goes. */
  async computePeriod(period: Period, heartbeat: () => void = () => {}): Promise<Earning[]> {
    if (!(period.start < period.end) || period.end.getTime() > Date.now()) throw new Error(`the period ${period.start.toISOString()}–${period.end.toISOString()} has not ended`);
    const { rows: nodes } = await this.pool.query<{ id: string; label: string; task_queue: string | null }>(
      `SELECT n.id, e.name || '/' || n.name AS label, n.task_queue FROM nodes n JOIN environments e ON e.id = n.environment_id ORDER BY n.id`,
    );
    const { rows: samples } = await this.pool.query<{ node_id: string; ok: number; failed: number }>(
      `SELECT node_id, count(*) FILTER (WHERE ok)::int AS ok, count(*) FILTER (WHERE NOT ok)::int AS failed
       FROM node_health_samples WHERE at >= $1 AND at < $2 GROUP BY node_id`,
      [period.start, period.end],
    );
    const checksOf = new Map(samples.map((row) => [row.node_id, row]));
    const queues = new Set(nodes.flatMap((node) => (node.task_queue ? [node.task_queue] : [])));
    const work = await nodeWorkIn(this.temporal, this.pool, period, queues, heartbeat);
    const { rates } = await this.settings.view();
    const earnings: Earning[] = [];
    for (const node of nodes) {
      heartbeat();
      const earlier = await this.pool.query<EarningRow>('SELECT * FROM cooperative_earnings WHERE period_start = $1 AND node_id = $2', [period.start, node.id]);
      if (earlier.rows[0]) {
        earnings.push({ ...viewOf(earlier.rows[0], node.label), replayed: true });
        continue;
      }
      const checks = checksOf.get(node.id) ?? { ok: 0, failed: 0 };
      const done = (node.task_queue && work.get(node.task_queue)) || { done: 0, failed: 0 };
      let credits = creditsFor(period, checks, done, rates);
      let transferId: string | null = null;
      if (credits > 0) {
        const account = await this.ledger.nodeAccount(node.id, node.label);
        const transfer = await this.ledger.applyTransfer({
          requestedBy: EARNINGS_REQUESTER,
          idempotencyKey: `earnings:${period.start.toISOString()}:${node.id}`,
          kind: 'earning',
          from: ISSUANCE_ACCOUNT_ID,
          to: account.id,
          amount: credits,
          memo: `earnings ${period.start.toISOString()} – ${period.end.toISOString()}`,
        });
        // A retry after a crash between the two writes: the row says what the transfer paid.
        credits = transfer.amount;
        transferId = transfer.transferId;
      }
      const inserted = await this.pool.query<EarningRow>(
        `INSERT INTO cooperative_earnings (period_start, period_end, node_id, checks_ok, checks_failed, steps_done, steps_failed, credits, transfer_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (period_start, node_id) DO NOTHING RETURNING *`,
        [period.start, period.end, node.id, checks.ok, checks.failed, done.done, done.failed, credits, transferId],
      );
      const row = inserted.rows[0] ?? (await this.pool.query<EarningRow>('SELECT * FROM cooperative_earnings WHERE period_start = $1 AND node_id = $2', [period.start, node.id])).rows[0]!;
      earnings.push({ ...viewOf(row, node.label), replayed: !inserted.rows[0] });
    }
    return earnings;
  }

  /** A node's past periods, newest first. */
  async history(nodeId: string, limit = 100): Promise<Earning[]> {
    const { rows } = await this.pool.query<EarningRow & { label: string }>(
      `SELECT c.*, e.name || '/' || n.name AS label FROM cooperative_earnings c JOIN nodes n ON n.id = c.node_id JOIN environments e ON e.id = n.environment_id
       WHERE c.node_id = $1 ORDER BY c.period_start DESC LIMIT $2`,
      [nodeId, limit],
    );
    return rows.map((row) => ({ ...viewOf(row, row.label), replayed: true }));
  }
}

function viewOf(row: EarningRow, label: string): Omit<Earning, 'replayed'> {
  return {
    nodeId: row.node_id,
    node: label,
    periodStart: row.period_start.toISOString(),
    periodEnd: row.period_end.toISOString(),
    checksOk: row.checks_ok,
    checksFailed: row.checks_failed,
    stepsDone: row.steps_done,
    stepsFailed: row.steps_failed,
    credits: Number(row.credits),
    transferId: row.transfer_id,
  };
}
