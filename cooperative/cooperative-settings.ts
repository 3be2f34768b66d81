// The cooperative's settings that governance changes (and nobody else):
// earning rates and voting rules. Unset settings take these defaults.
import type pg from 'pg';

export interface EarningRates {
  /** Credits per hour a node answered its health checks (the share of checks answered, times the period). */
  uptimeCreditsPerHour: number;
  /** Credits per step completed on the node (an activity its agent ran). */
  creditsPerStep: number;
}

export interface VotingRules {
  /** Share of members (or of reputation, when weighted) that must vote, 0..1. */
  quorum: number;
  /** Share of the yes and no votes (or weights) that must be yes, 0..1. */
  threshold: number;
  /** One member one vote, or each vote weighted by the member's reputation. */
  weighting: 'one-member-one-vote' | 'reputation';
}

export interface CooperativeSettingsView {
  rates: EarningRates;
  voting: VotingRules;
}

export const DEFAULT_SETTINGS: CooperativeSettingsView = { rates: { uptimeCreditsPerHour: 10, creditsPerStep: 2 }, voting: { quorum: 0.5, threshold: 0.5, weighting: 'one-member-one-vote' } };

export type SettingKey = keyof CooperativeSettingsView;

export class CooperativeSettings {
  constructor(private readonly pool: pg.Pool | pg.PoolClient) {}

  async view(): Promise<CooperativeSettingsView> {
    const { rows } = await this.pool.query<{ key: SettingKey; value: object }>('SELECT key, value FROM cooperative_settings');
    const set = Object.fromEntries(rows.map((row) => [row.key, row.value])) as Partial<CooperativeSettingsView>;
    return { rates: { ...DEFAULT_SETTINGS.rates, ...set.rates }, voting: { ...DEFAULT_SETTINGS.voting, ...set.voting } };
  }

  /** Merges a change into a setting; `by` names what changed it (a proposal). */
  async change<K extends SettingKey>(key: K, change: Partial<CooperativeSettingsView[K]>, by: string): Promise<CooperativeSettingsView> {
    const current = (await this.view())[key];
    await this.pool.query(
      `INSERT INTO cooperative_settings (key, value, updated_by, updated_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_by = EXCLUDED.updated_by, updated_at = now()`,
      [key, JSON.stringify({ ...current, ...change }), by],
    );
    return this.view();
  }
}
