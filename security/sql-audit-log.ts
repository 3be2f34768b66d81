// Audit entries written by processes without the API's Prisma client (the
// worker, when it refuses what reached it through Temporal alone).
import type pg from 'pg';
import { rowOf, type AuditRecord } from '../api/services/audit-service.js';

export class SqlAuditLog {
  constructor(private readonly pool: pg.Pool) {}

  /** What reached the worker through Temporal alone is the attacker's: NUL in it must not make the refusal unauditable. */
  async record(unchecked: AuditRecord): Promise<void> {
    const entry = rowOf(unchecked);
    await this.pool.query(
      `insert into audit_log (actor_id, actor_email, action, target_type, target_id, ip, user_agent, outcome, details)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [entry.actorId ?? null, entry.actorEmail ?? null, entry.action, entry.targetType, entry.targetId ?? null, entry.ip ?? null, entry.userAgent ?? null, entry.outcome, JSON.stringify(entry.details)],
    );
  }
}
