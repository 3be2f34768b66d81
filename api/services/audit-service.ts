import type { Database } from '../../db/database.js';

export interface AuditRecord {
  actorId?: string;
  actorEmail?: string;
  action: string;
  targetType: string;
  targetId?: string;
  ip?: string;
  userAgent?: string;
  /** `pending`: the request was let through and its outcome never written (the API failed or died before answering). */
  outcome: 'success' | 'failure' | 'denied' | 'pending';
  details?: Record<string, unknown>;
}

/**
 * PostgreSQL text and jsonb cannot hold NUL: a request that sends one (in an
 * email, a path) would otherwise make its own entry unwritable, and so be
 * refused as if the audit log were down. It is stored as U+FFFD instead.
 */
function storable<T>(value: T): T {
  if (typeof value === 'string') return value.replace(/\u0000/g, '\uFFFD') as T;
  if (Array.isArray(value)) return value.map(storable) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) return Object.fromEntries(Object.entries(value).map(([key, entry]) => [storable(key), storable(entry)])) as T;
  return value;
}

/** Which entries to read, newest first; `action` is text the action contains. */
export interface AuditFilter {
  actor?: string;
  action?: string;
  outcome?: AuditRecord['outcome'];
  /** ISO 8601 times bounding when the entries were written. */
  from?: string;
  to?: string;
  limit?: number;
}

export interface AuditEntryView {
  id: string;
  at: string;
  actorEmail: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  ip: string | null;
  userAgent: string | null;
  outcome: string;
  details: unknown;
}

/** An entry as it can be stored (NUL replaced), for every writer of the audit log. */
export function rowOf<T extends Partial<AuditRecord>>(entry: T) {
  return storable({ ...entry, details: (entry.details ?? {}) as object });
}

export class AuditService {
  constructor(private readonly db: Database) {}

  async record(entry: AuditRecord): Promise<void> {
    await this.db.auditEntry.create({ data: rowOf(entry) });
  }

  /** Writes a request's entry as pending, before it acts; `complete` gives it its outcome. */
  async open(entry: Omit<AuditRecord, 'outcome'>): Promise<bigint> {
    const row = await this.db.auditEntry.create({ data: rowOf({ ...entry, outcome: 'pending' as const }), select: { id: true } });
    return row.id;
  }

  async complete(id: bigint, entry: AuditRecord): Promise<void> {
    await this.db.auditEntry.update({ where: { id }, data: rowOf(entry) });
  }

  async findEntries(filter: AuditFilter): Promise<AuditEntryView[]> {
    const rows = await this.db.auditEntry.findMany({
      where: {
        ...(filter.actor ? { actorEmail: filter.actor } : {}),
        ...(filter.action ? { action: { contains: filter.action } } : {}),
        ...(filter.outcome ? { outcome: filter.outcome } : {}),
        ...(filter.from || filter.to ? { at: { ...(filter.from ? { gte: new Date(filter.from) } : {}), ...(filter.to ? { lte: new Date(filter.to) } : {}) } } : {}),
      },
      orderBy: { id: 'desc' },
      take: filter.limit ?? 200,
    });
    return rows.map((row) => ({
      id: row.id.toString(),
      at: row.at.toISOString(),
      actorEmail: row.actorEmail,
      action: row.action,
      targetType: row.targetType,
      targetId: row.targetId,
      ip: row.ip,
      userAgent: row.userAgent,
      outcome: row.outcome,
      details: row.details,
    }));
  }
}
