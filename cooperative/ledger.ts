// The cooperative's credit ledger: accounts with integer balances, transfers
// applied once per (requester, idempotency key), and double-entry entries that
// are never changed (a database trigger refuses it). A transfer is one SQL
// transaction that locks both accounts in id order, so concurrent transfers on
// one account are serialised and two transfers in opposite directions cannot
// deadlock; the balance check and the CHECK constraint keep every member and
// node account at zero or above. The entry rows and the audit entry are
// written in the same transaction: nothing moves unaudited.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { rowOf } from '../api/services/audit-service.js';

export const ISSUANCE_ACCOUNT_ID = '00000000-0000-4000-8000-000000000001';

export type AccountKind = 'member' | 'node' | 'issuance';
export type TransferKind = 'transfer' | 'issue' | 'earning';

export interface Account {
  id: string;
  kind: AccountKind;
  label: string;
  userId: string | null;
  nodeId: string | null;
  balance: number;
}

export interface TransferRequest {
  /** The requesting user's id, or `system:<job>`: keys are unique per requester. */
  requestedBy: string;
  /** Who is audited as the actor. */
  actorEmail?: string;
  idempotencyKey: string;
  kind: TransferKind;
  from: string;
  to: string;
  amount: number;
  memo?: string;
}

export interface TransferResult {
  transferId: string;
  status: 'applied' | 'refused';
  reason?: string;
  from: string;
  to: string;
  amount: number;
  /** True when the key had already been used: this answers the first transfer made with it. */
  replayed: boolean;
}

export interface StatementLine {
  entryId: number;
  at: string;
  transferId: string;
  kind: TransferKind;
  counterparty: string;
  memo: string;
  amount: number;
  balanceAfter: number;
}

/** A transfer that cannot be applied as asked (bad amount, unknown account): refused, never retried. */
export class LedgerRefusal extends Error {
  override name = 'LedgerRefusal';
}

const MAX_AMOUNT = Number.MAX_SAFE_INTEGER;

interface TransferRow {
  id: string;
  status: 'applied' | 'refused';
  reason: string | null;
  from_account: string;
  to_account: string;
  amount: string;
}

interface AccountRow {
  id: string;
  kind: AccountKind;
  label: string;
  user_id: string | null;
  node_id: string | null;
  balance: string;
}

const accountOf = (row: AccountRow): Account => ({ id: row.id, kind: row.kind, label: row.label, userId: row.user_id, nodeId: row.node_id, balance: Number(row.balance) });

const resultOf = (row: TransferRow, replayed: boolean): TransferResult => ({
  transferId: row.id,
  status: row.status,
  ...(row.reason ? { reason: row.reason } : {}),
  from: row.from_account,
  to: row.to_account,
  amount: Number(row.amount),
  replayed,
});

export function checkTransferRequest(request: TransferRequest): void {
  if (!Number.isSafeInteger(request.amount) || request.amount <= 0 || request.amount > MAX_AMOUNT)
    throw new LedgerRefusal(`the amount must be a whole number of credits above 0, not ${request.amount}`);
  if (request.from === request.to) throw new LedgerRefusal('a transfer needs two different accounts');
  if (!request.idempotencyKey || request.idempotencyKey.length > 200) throw new LedgerRefusal('an idempotency key of 1 to 200 characters is needed');
}

export class Ledger {
  constructor(private readonly pool: pg.Pool) {}

  /** The member account of a user, opened on first use. */
  async memberAccount(userId: string, label: string): Promise<Account> {
    return this.openAccount('member', label, { userId });
  }

  /** The account of a node of the inventory, opened on first use. */
  async nodeAccount(nodeId: string, label: string): Promise<Account> {
    return this.openAccount('node', label, { nodeId });
  }

  private async openAccount(kind: 'member' | 'node', label: string, owner: { userId?: string; nodeId?: string }): Promise<Account> {
    const column = owner.userId ? 'user_id' : 'node_id';
    const ownerId = owner.userId ?? owner.nodeId;
    await this.pool.query(`INSERT INTO cooperative_accounts (id, kind, label, ${column}) VALUES ($1, $2, $3, $4) ON CONFLICT (${column}) DO NOTHING`, [randomUUID(), kind, label, ownerId]);
    const { rows } = await this.pool.query<AccountRow>(`SELECT * FROM cooperative_accounts WHERE ${column} = $1`, [ownerId]);
    return accountOf(rows[0]!);
  }

  async account(id: string): Promise<Account | undefined> {
    const { rows } = await this.pool.query<AccountRow>('SELECT * FROM cooperative_accounts WHERE id = $1', [id]);
    return rows[0] ? accountOf(rows[0]) : undefined;
  }

  async accounts(ids?: string[]): Promise<Account[]> {
    const { rows } = ids
      ? await this.pool.query<AccountRow>('SELECT * FROM cooperative_accounts WHERE id = ANY($1::uuid[]) ORDER BY kind, label', [ids])
      : await this.pool.query<AccountRow>('SELECT * FROM cooperative_accounts ORDER BY kind, label');
    return rows.map(accountOf);
  }

  /** The transfer a key already made, if any. */
  async transferOfKey(requestedBy: string, idempotencyKey: string): Promise<TransferResult | undefined> {
    const { rows } = await this.pool.query<TransferRow>('SELECT * FROM cooperative_transfers WHERE requested_by = $1 AND idempotency_key = $2', [requestedBy, idempotencyKey]);
    return rows[0] ? resultOf(rows[0], true) : undefined;
  }

  /**
   * Applies a transfer in one transaction, or refuses it (recorded, so the key
   * answers the same refusal again); a key already used answers its transfer.
   */
  async applyTransfer(request: TransferRequest, workflowId?: string): Promise<TransferResult> {
    checkTransferRequest(request);
    const earlier = await this.transferOfKey(request.requestedBy, request.idempotencyKey);
    if (earlier) return earlier;
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // Both rows locked in id order: every transaction takes its locks in the same order.
      const { rows } = await client.query<AccountRow>('SELECT * FROM cooperative_accounts WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE', [[request.from, request.to]]);
      const from = rows.find((row) => row.id === request.from);
      const to = rows.find((row) => row.id === request.to);
      if (!from || !to) throw new LedgerRefusal(`no account ${!from ? request.from : request.to}`);
      const refusal = from.kind !== 'issuance' && Number(from.balance) < request.amount ? `${from.label} holds ${from.balance} credits, fewer than ${request.amount}` : undefined;
      const inserted = await client.query<TransferRow>(
        `INSERT INTO cooperative_transfers (id, requested_by, idempotency_key, kind, from_account, to_account, amount, memo, status, reason, workflow_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (requested_by, idempotency_key) DO NOTHING RETURNING *`,
        [
          randomUUID(),
          request.requestedBy,
          request.idempotencyKey,
          request.kind,
          from.id,
          to.id,
          request.amount,
          request.memo ?? '',
          refusal ? 'refused' : 'applied',
          refusal ?? null,
          workflowId ?? null,
        ],
      );
      const transfer = inserted.rows[0];
      if (!transfer) {
        // The same key committed by a concurrent attempt since the first look.
        await client.query('ROLLBACK');
        return (await this.transferOfKey(request.requestedBy, request.idempotencyKey))!;
      }
      let entries: Array<{ account: string; amount: number; balanceAfter: number }> = [];
      if (!refusal) {
        const debited = await client.query<{ balance: string }>('UPDATE cooperative_accounts SET balance = balance - $2 WHERE id = $1 RETURNING balance', [from.id, request.amount]);
        const credited = await client.query<{ balance: string }>('UPDATE cooperative_accounts SET balance = balance + $2 WHERE id = $1 RETURNING balance', [to.id, request.amount]);
        entries = [
          { account: from.id, amount: -request.amount, balanceAfter: Number(debited.rows[0]!.balance) },
          { account: to.id, amount: request.amount, balanceAfter: Number(credited.rows[0]!.balance) },
        ];
        await client.query(`INSERT INTO cooperative_entries (transfer_id, account_id, amount, balance_after) VALUES ($1, $2, $3, $4), ($1, $5, $6, $7)`, [
          transfer.id,
          entries[0]!.account,
          entries[0]!.amount,
          entries[0]!.balanceAfter,
          entries[1]!.account,
          entries[1]!.amount,
          entries[1]!.balanceAfter,
        ]);
      }
      const audit = rowOf({
        ...(/^[0-9a-f-]{36}$/.test(request.requestedBy) ? { actorId: request.requestedBy } : {}),
        ...(request.actorEmail ? { actorEmail: request.actorEmail } : {}),
        action: `cooperative.${request.kind}`,
        targetType: 'cooperative-transfer',
        targetId: transfer.id,
        outcome: refusal ? 'failure' : 'success',
        details: {
          from: from.label,
          to: to.label,
          amount: request.amount,
          idempotencyKey: request.idempotencyKey,
          ...(refusal ? { reason: refusal } : { entries }),
          ...(workflowId ? { workflowId } : {}),
        },
      });
      await client.query(`INSERT INTO audit_log (actor_id, actor_email, action, target_type, target_id, outcome, details) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
        audit.actorId ?? null,
        audit.actorEmail ?? null,
        audit.action,
        audit.targetType,
        audit.targetId,
        audit.outcome,
        JSON.stringify(audit.details),
      ]);
      await client.query('COMMIT');
      return resultOf(transfer, false);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** An account's entries in [from, to), oldest first, with the other side of each transfer. */
  async statement(accountId: string, range: { from?: Date; to?: Date } = {}): Promise<StatementLine[]> {
    const { rows } = await this.pool.query<{ id: string; created_at: Date; transfer_id: string; kind: TransferKind; counterparty: string; memo: string; amount: string; balance_after: string }>(
      `SELECT e.id, e.created_at, e.transfer_id, t.kind, o.label AS counterparty, t.memo, e.amount, e.balance_after
       FROM cooperative_entries e
       JOIN cooperative_transfers t ON t.id = e.transfer_id
       JOIN cooperative_accounts o ON o.id = CASE WHEN t.from_account = e.account_id THEN t.to_account ELSE t.from_account END
       WHERE e.account_id = $1 AND ($2::timestamptz IS NULL OR e.created_at >= $2) AND ($3::timestamptz IS NULL OR e.created_at < $3)
       ORDER BY e.id`,
      [accountId, range.from ?? null, range.to ?? null],
    );
    return rows.map((row) => ({
      entryId: Number(row.id),
      at: row.created_at.toISOString(),
      transferId: row.transfer_id,
      kind: row.kind,
      counterparty: row.counterparty,
      memo: row.memo,
      amount: Number(row.amount),
      balanceAfter: Number(row.balance_after),
    }));
  }
}

/** A CSV cell: quoted, with formula-leading characters neutralised so a spreadsheet does not run a label as a formula. */
function csvCell(value: string | number): string {
  const text = String(value);
  const safe = /^[=+\-@\t\r]/.test(text) && typeof value === 'string' ? `'${text}` : text;
  return /[",\n\r]/.test(safe) || safe !== text ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function statementCsv(lines: StatementLine[]): string {
  const header = ['entry', 'at', 'transfer', 'kind', 'counterparty', 'memo', 'amount', 'balance_after'];
  const body = lines.map((line) => [line.entryId, line.at, line.transferId, line.kind, line.counterparty, line.memo, line.amount, line.balanceAfter].map(csvCell).join(','));
  return `${[header.join(','), ...body].join('\n')}\n`;
}
