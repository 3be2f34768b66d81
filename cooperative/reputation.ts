// Reputation, per node and per member, from what the cooperative verified,
// every fact weighted by its age: w = 0.5 ^ (age / 7 days), so a week-old
// check counts half, a month-old one about a sixteenth.
//
// Node (0..100) = 60 × uptime + 40 × reliability × activity, where
//   uptime      = Σw over answered health checks / Σw over all checks (0 without checks),
//   reliability = Σw steps done / Σw (steps done + steps failed) (1 without steps),
//   activity    = min(1, Σw steps done / 20): a node that ran no work reaches 60 at most.
// Member (0..100) = 100 × participation, where
//   participation = Σw over closed proposals they voted on / Σw over all closed proposals
//   (weighted by each proposal's close; 0 when none closed yet).
// The trend is the score as of each of the last days (facts up to then only).
import type pg from 'pg';

export const HALF_LIFE_MS = 7 * 86_400_000;
const DAY_MS = 86_400_000;

export interface HealthFact {
  at: Date;
  ok: boolean;
}

export interface WorkFact {
  at: Date;
  done: number;
  failed: number;
}

export interface NodeReputation {
  score: number;
  components: { uptime: number; checksOk: number; checksFailed: number; stepsDone: number; stepsFailed: number; reliability: number; activity: number; fromUptime: number; fromWork: number };
}

export interface MemberReputation {
  score: number;
  components: { participation: number; votedOn: number; closed: number };
}

export interface Trend {
  /** The score at the end of each of the last days, oldest first, then now. */
  points: Array<{ at: string; score: number }>;
  /** Now minus a day ago. */
  change: number;
}

const weightAt = (now: Date, at: Date) => (at > now ? 0 : 0.5 ** ((now.getTime() - at.getTime()) / HALF_LIFE_MS));
const round = (value: number) => Math.round(value * 100) / 100;

export function nodeReputation(health: HealthFact[], work: WorkFact[], now: Date): NodeReputation {
  let ok = 0;
  let failed = 0;
  for (const fact of health) {
    const weight = weightAt(now, fact.at);
    if (fact.ok) ok += weight;
    else failed += weight;
  }
  let done = 0;
  let workFailed = 0;
  for (const fact of work) {
    const weight = weightAt(now, fact.at);
    done += weight * fact.done;
    workFailed += weight * fact.failed;
  }
  const uptime = ok + failed === 0 ? 0 : ok / (ok + failed);
  const reliability = done + workFailed === 0 ? 1 : done / (done + workFailed);
  const activity = Math.min(1, done / 20);
  const fromUptime = 60 * uptime;
  const fromWork = 40 * reliability * activity;
  return {
    score: round(fromUptime + fromWork),
    components: {
      uptime: round(uptime),
      checksOk: round(ok),
      checksFailed: round(failed),
      stepsDone: round(done),
      stepsFailed: round(workFailed),
      reliability: round(reliability),
      activity: round(activity),
      fromUptime: round(fromUptime),
      fromWork: round(fromWork),
    },
  };
}

export function memberReputation(closedProposals: Array<{ closedAt: Date; voted: boolean }>, now: Date): MemberReputation {
  let voted = 0;
  let all = 0;
  let votedOn = 0;
  let closed = 0;
  for (const proposal of closedProposals) {
    const weight = weightAt(now, proposal.closedAt);
    if (weight === 0) continue;
    closed += 1;
    all += weight;
    if (proposal.voted) {
      voted += weight;
      votedOn += 1;
    }
  }
  const participation = all === 0 ? 0 : voted / all;
  return { score: round(100 * participation), components: { participation: round(participation), votedOn, closed } };
}

/** The score as of the end of each of the last `days` days, and now. */
export function trendOf(scoreAt: (at: Date) => number, now: Date, days = 7): Trend {
  const points = Array.from({ length: days + 1 }, (_, index) => {
    const at = new Date(now.getTime() - (days - index) * DAY_MS);
    return { at: at.toISOString(), score: scoreAt(at) };
  });
  return { points, change: round(points.at(-1)!.score - (points.at(-2)?.score ?? points.at(-1)!.score)) };
}

/** Reads the facts (a year of them at most) and scores them. */
export class Reputation {
  constructor(private readonly pool: pg.Pool) {}

  async ofNode(nodeId: string, now = new Date()): Promise<NodeReputation & { trend: Trend }> {
    const since = new Date(now.getTime() - 365 * DAY_MS);
    const health = await this.pool.query<{ at: Date; ok: boolean }>('SELECT at, ok FROM node_health_samples WHERE node_id = $1 AND at >= $2', [nodeId, since]);
    const work = await this.pool.query<{ at: Date; done: number; failed: number }>(
      'SELECT period_end AS at, steps_done AS done, steps_failed AS failed FROM cooperative_earnings WHERE node_id = $1 AND period_end >= $2',
      [nodeId, since],
    );
    const facts = { health: health.rows, work: work.rows };
    return { ...nodeReputation(facts.health, facts.work, now), trend: trendOf((at) => nodeReputation(facts.health, facts.work, at).score, now) };
  }

  async ofMember(userId: string, now = new Date()): Promise<MemberReputation & { trend: Trend }> {
    const { rows } = await this.pool.query<{ closed_at: Date; voted: boolean }>(
      `SELECT p.closes_at AS closed_at, EXISTS (SELECT 1 FROM cooperative_votes v WHERE v.proposal_id = p.id AND v.user_id = $1) AS voted
       FROM cooperative_proposals p WHERE p.status <> 'voting' AND p.closes_at >= $2`,
      [userId, new Date(now.getTime() - 365 * DAY_MS)],
    );
    const proposals = rows.map((row) => ({ closedAt: row.closed_at, voted: row.voted }));
    return { ...memberReputation(proposals, now), trend: trendOf((at) => memberReputation(proposals, at).score, now) };
  }
}
