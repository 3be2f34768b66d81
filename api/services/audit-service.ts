import type { Database } from '../../db/database.js';

export interface AuditRecord {
  actorId?: string;
  actorEmail?: string;
  action: string;
  targetType: string;
  targetId?: string;
  ip?: string;
  userAgent?: string;
  outcome: 'success' | 'failure' | 'denied';
  details?: Record<string, unknown>;
}

export class AuditService {
  constructor(private readonly db: Database) {}

  async record(entry: AuditRecord): Promise<void> {
    await this.db.auditEntry.create({ data: { ...entry, details: (entry.details ?? {}) as object } });
  }
}
