// Each environment's egress allowlist (egress_allowlists): the non-public
// addresses, ranges and host names its http and notify actions may reach.
// Admins set it through the API; workers read it for every such step, so a
// change applies to the next step that runs.
import type pg from 'pg';
import { ALLOWLIST_HINT, parseAllowlist, type EgressAllowlist, type EgressAllowlistSource } from '../activities/http/egress-policy.js';
import { JarvisProblem } from '../manifest/errors.js';

export interface EgressAllowlistView {
  environment: string;
  entries: string[];
  /** Who set it last; null while it was never set. */
  updatedBy: string | null;
  updatedAt: string | null;
}

interface AllowlistRow {
  entries: string[];
  updated_by: string | null;
  updated_at: Date;
}

export class EgressAllowlistStore implements EgressAllowlistSource {
  constructor(private readonly pool: pg.Pool) {}

  async view(environment: string): Promise<EgressAllowlistView> {
    const { rows } = await this.pool.query<AllowlistRow>('SELECT entries, updated_by, updated_at FROM egress_allowlists WHERE environment = $1', [environment]);
    const row = rows[0];
    return row ? { environment, entries: row.entries, updatedBy: row.updated_by, updatedAt: row.updated_at.toISOString() } : { environment, entries: [], updatedBy: null, updatedAt: null };
  }

  async allowlist(environment: string): Promise<EgressAllowlist> {
    // Entries were checked when they were stored; one that no longer parses allows nothing.
    return parseAllowlist(environment, (await this.view(environment)).entries).allowlist;
  }

  /** Replaces the environment's allowlist; refuses it whole when an entry is not an address, range or host name. */
  async replace(environment: string, entries: string[], updatedBy: string): Promise<EgressAllowlistView> {
    const { invalid } = parseAllowlist(environment, entries);
    if (invalid.length > 0) {
      throw new JarvisProblem(
        'the egress allowlist has entries that are not addresses, ranges or host names',
        'invalid',
        invalid.map(({ index, text }) => ({ path: `entries[${index}]`, message: `"${text}" is not ${ALLOWLIST_HINT}` })),
      );
    }
    const unique = [...new Set(entries.map((entry) => entry.trim()))];
    try {
      await this.pool.query(
        `INSERT INTO egress_allowlists (environment, entries, updated_by) VALUES ($1, $2, $3)
         ON CONFLICT (environment) DO UPDATE SET entries = $2, updated_by = $3, updated_at = now()`,
        [environment, JSON.stringify(unique), updatedBy],
      );
    } catch (error) {
      // The allowlist belongs to an environment that must exist (foreign key).
      if ((error as { code?: string }).code === '23503') throw new JarvisProblem(`no environment ${environment}`, 'not-found');
      throw error;
    }
    return this.view(environment);
  }
}
