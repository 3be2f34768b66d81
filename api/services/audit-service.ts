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
}
