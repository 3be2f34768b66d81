// The runs callers' Idempotency-Keys started. A key's row outlives Temporal's
// retention of its run, so a late retry still answers the one run.
import type { Database } from '../../db/database.js';

export class IdempotencyKeyService {
  constructor(private readonly db: Database) {}

  /** The run a user's key already started, if it did. */
  async startedRun(userId: string, key: string): Promise<string | undefined> {
    return (await this.db.idempotencyKey.findUnique({ where: { userId_key: { userId, key } } }))?.runId;
  }

  /** Two retries racing here name the same run, so the second write is skipped. */
  async remember(userId: string, key: string, runId: string): Promise<void> {
    await this.db.idempotencyKey.createMany({ data: [{ userId, key, runId }], skipDuplicates: true });
  }
}
