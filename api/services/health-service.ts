// Whether the systems the API needs answer: the database and Temporal.
import type { Client } from '@temporalio/client';
import type { Database } from '../../db/database.js';

export interface Check {
  ok: boolean;
  detail?: string;
}

async function check(probe: () => Promise<unknown>): Promise<Check> {
  try {
    await probe();
    return { ok: true };
  } catch (error) {
    return { ok: false, detail: (error as Error).message.split('\n')[0] };
  }
}

export class HealthService {
  constructor(
    private readonly db: Database,
    private readonly temporal: Client,
  ) {}

  async readiness(): Promise<{ ready: boolean; checks: { database: Check; temporal: Check } }> {
    const [database, temporal] = await Promise.all([
      check(() => this.db.$queryRawUnsafe('SELECT 1')),
      check(() => this.temporal.workflowService.getSystemInfo({})),
    ]);
    return { ready: database.ok && temporal.ok, checks: { database, temporal } };
  }
}
