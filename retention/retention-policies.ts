// Each environment's retention: how long its runs (projection rows and Temporal
// histories), their log lines and their artifacts are kept. Admins set them per
// environment; what they leave unset takes the installation's default.
import type pg from 'pg';
import { parseDuration } from '../manifest/duration.js';
import { JarvisProblem } from '../manifest/errors.js';

export const RETENTION_KINDS = ['runs', 'logs', 'artifacts'] as const;
export type RetentionKind = (typeof RETENTION_KINDS)[number];
export type RetentionDurations = Record<RetentionKind, string>;

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** Temporal keeps a closed execution at least a day; a shorter runs retention could not be honoured. */
const MINIMUM_MS: Record<RetentionKind, number> = { runs: DAY_MS, logs: HOUR_MS, artifacts: HOUR_MS };
const MAXIMUM_MS = 10 * 366 * DAY_MS;
export const RETENTION_HINT = 'a duration such as 90d, 36h or 1d12h';

export interface RetentionView extends RetentionDurations {
  environment: string;
  /** What admins set; null: the installation's default. */
  set: Record<RetentionKind, string | null>;
  defaults: RetentionDurations;
  updatedBy: string | null;
  updatedAt: string | null;
}

/** Milliseconds of each kind, as the purge applies them. */
export type RetentionMs = Record<RetentionKind, number>;

/** Parses one retention, or says what is wrong with it (for the API's and the CLI's messages). */
export function parseRetention(kind: RetentionKind, text: string): { ms: number } | { problem: string } {
  const ms = parseDuration(text);
  if (ms === undefined) return { problem: `"${text}" is not ${RETENTION_HINT}` };
  if (ms < MINIMUM_MS[kind]) return { problem: `${kind} must be kept at least ${MINIMUM_MS[kind] === DAY_MS ? '1d' : '1h'}` };
  if (ms > MAXIMUM_MS) return { problem: `${kind} can be kept at most 3660d` };
  return { ms };
}

export function retentionMs(durations: RetentionDurations): RetentionMs {
  const ms = (kind: RetentionKind) => {
    const parsed = parseRetention(kind, durations[kind]);
    // Stored values were checked when written; one that no longer parses keeps everything for the longest time.
    return 'ms' in parsed ? parsed.ms : MAXIMUM_MS;
  };
  return { runs: ms('runs'), logs: ms('logs'), artifacts: ms('artifacts') };
}

interface PolicyRow {
  environment: string;
  runs: string | null;
  logs: string | null;
  artifacts: string | null;
  updated_by: string | null;
  updated_at: Date;
}

export class RetentionPolicies {
  constructor(
    private readonly pool: pg.Pool,
    readonly defaults: RetentionDurations,
  ) {}

  private viewOf(environment: string, row: PolicyRow | undefined): RetentionView {
    const set = { runs: row?.runs ?? null, logs: row?.logs ?? null, artifacts: row?.artifacts ?? null };
    return {
      environment,
      runs: set.runs ?? this.defaults.runs,
      logs: set.logs ?? this.defaults.logs,
      artifacts: set.artifacts ?? this.defaults.artifacts,
      set,
      defaults: this.defaults,
      updatedBy: row?.updated_by ?? null,
      updatedAt: row?.updated_at.toISOString() ?? null,
    };
  }

  async view(environment: string): Promise<RetentionView> {
    const { rows } = await this.pool.query<PolicyRow & { name: string }>('SELECT e.name, p.* FROM environments e LEFT JOIN retention_policies p ON p.environment = e.name WHERE e.name = $1', [
      environment,
    ]);
    if (rows.length === 0) throw new JarvisProblem(`no environment ${environment}`, 'not-found');
    return this.viewOf(environment, rows[0]!.environment ? rows[0] : undefined);
  }

  /** Every environment's retention, by name. */
  async all(): Promise<RetentionView[]> {
    const { rows } = await this.pool.query<PolicyRow & { name: string }>('SELECT e.name, p.* FROM environments e LEFT JOIN retention_policies p ON p.environment = e.name ORDER BY e.name');
    return rows.map((row) => this.viewOf(row.name, row.environment ? row : undefined));
  }

  /**
   * Changes what is given (a duration, or null for the installation's default)
   * and keeps the rest; refuses the whole change when one value is invalid.
   */
  async update(environment: string, change: Partial<Record<RetentionKind, string | null>>, updatedBy: string): Promise<RetentionView> {
    const errors = RETENTION_KINDS.flatMap((kind) => {
      const value = change[kind];
      if (value === undefined || value === null) return [];
      const parsed = parseRetention(kind, value);
      return 'problem' in parsed ? [{ path: kind, message: parsed.problem }] : [];
    });
    if (errors.length > 0) throw new JarvisProblem('the retention is invalid', 'invalid', errors);
    const current = await this.view(environment);
    const next = Object.fromEntries(RETENTION_KINDS.map((kind) => [kind, change[kind] === undefined ? current.set[kind] : (change[kind]?.trim() ?? null)])) as Record<RetentionKind, string | null>;
    await this.pool.query(
      `INSERT INTO retention_policies (environment, runs, logs, artifacts, updated_by) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (environment) DO UPDATE SET runs = $2, logs = $3, artifacts = $4, updated_by = $5, updated_at = now()`,
      [environment, next.runs, next.logs, next.artifacts, updatedBy],
    );
    return this.view(environment);
  }

  /** The longest runs retention of any environment (the namespace's retention must cover it). */
  async longestRunsMs(): Promise<number> {
    const views = await this.all();
    if (views.length === 0) return retentionMs(this.defaults).runs;
    return Math.max(...views.map((view) => retentionMs(view).runs));
  }
}
