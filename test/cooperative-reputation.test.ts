// Reputation follows a node's health history as cooperative/reputation.ts
// documents it: checks are recorded by the inventory's own writes (a trigger
// on nodes), recent failures weigh more than old ones, and the trend shows
// the score of each past day.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HALF_LIFE_MS, nodeReputation, Reputation } from '../cooperative/reputation.js';
import { createMigratedDatabase } from './control-plane.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const NOW = new Date('2026-12-01T12:00:00.000Z');

let database: Awaited<ReturnType<typeof createMigratedDatabase>>;
let pool: pg.Pool;

beforeAll(async () => {
  database = await createMigratedDatabase();
  pool = new pg.Pool({ connectionString: database.url, max: 2 });
  await pool.query(`INSERT INTO environments (id, name) VALUES (gen_random_uuid(), 'dev')`);
});

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

/** A node whose health checks answered at `answered` and went unanswered at `missed`, written as the health schedule writes them. */
async function nodeWithHistory(name: string, answered: Date[], missed: Date[]): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO nodes (id, name, environment_id, source) SELECT gen_random_uuid(), $1, id, 'agent' FROM environments WHERE name = 'dev' RETURNING id`,
    [name],
  );
  const id = rows[0]!.id;
  const checks = [...answered.map((at) => ({ at, ok: true })), ...missed.map((at) => ({ at, ok: false }))].sort((a, b) => a.at.getTime() - b.at.getTime());
  for (const check of checks) {
    if (check.ok) await pool.query(`UPDATE nodes SET status = 'online', last_seen_at = $2 WHERE id = $1`, [id, check.at]);
    else await pool.query(`UPDATE nodes SET status = 'unreachable', updated_at = $2 WHERE id = $1`, [id, check.at]);
  }
  return id;
}

const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY);
const hoursAgo = (hours: number) => new Date(NOW.getTime() - hours * HOUR);
const weight = (at: Date) => 0.5 ** ((NOW.getTime() - at.getTime()) / HALF_LIFE_MS);

describe('reputation', () => {
  it("follows a node's health history: answered checks raise it, recent misses lower it more than old ones, and the trend shows the drop", async () => {
    const week = [1, 2, 3, 4, 5, 6, 7].map(daysAgo);
    const recentMisses = [1, 2, 3].map(hoursAgo);
    const steady = await nodeWithHistory('steady', week, []);
    const failingNow = await nodeWithHistory('failing-now', week, recentMisses);
    const failedLongAgo = await nodeWithHistory('failed-long-ago', week, [28, 29, 30].map(daysAgo));
    const reputation = new Reputation(pool);

    const steadyScore = await reputation.ofNode(steady, NOW);
    expect(steadyScore).toMatchObject({ score: 60, components: { uptime: 1, checksFailed: 0, fromUptime: 60, fromWork: 0 } });

    // 60 × uptime, each check weighted by 0.5 ^ (age / 7 days).
    const answered = week.reduce((sum, at) => sum + weight(at), 0);
    const missed = recentMisses.reduce((sum, at) => sum + weight(at), 0);
    const now = await reputation.ofNode(failingNow, NOW);
    expect(now.score).toBeCloseTo(60 * (answered / (answered + missed)), 1);
    expect(now.components.checksOk).toBeCloseTo(answered, 1);
    expect(now.components.checksFailed).toBeCloseTo(missed, 1);

    const old = await reputation.ofNode(failedLongAgo, NOW);
    expect(old.score).toBeLessThan(60);
    expect(old.score).toBeGreaterThan(now.score);

    // A day ago the misses had not happened: the trend falls by what they cost.
    expect(now.trend.points).toHaveLength(8);
    expect(now.trend.points.at(-2)!.score).toBe(60);
    expect(now.trend.points.at(-1)!.score).toBe(now.score);
    expect(now.trend.change).toBeCloseTo(now.score - 60, 1);
    // Before its first check a node has no reputation.
    expect(now.trend.points[0]!.score).toBe(60);
    expect((await reputation.ofNode(steady, daysAgo(8))).score).toBe(0);
  });

  it('adds work done, as reliability times activity, to at most 40 points', () => {
    const checks = [{ at: NOW, ok: true }];
    expect(nodeReputation(checks, [{ at: NOW, done: 20, failed: 0 }], NOW).score).toBe(100);
    expect(nodeReputation(checks, [{ at: NOW, done: 10, failed: 10 }], NOW)).toMatchObject({ score: 70, components: { reliability: 0.5, activity: 0.5, fromWork: 10 } });
    expect(nodeReputation([], [], NOW).score).toBe(0);
  });
});
