// Governance: members propose, vote (and change their vote) until the
// proposal closes; its workflow tallies it at the deadline under the rules it
// was made with and applies its effect only when accepted.
//
// Quorum: the share of members (one member one vote), or of all members'
// reputation (weighted), that voted, abstentions included. Accepted: quorum
// reached and the yes share of yes and no votes (or weights) strictly above
// the threshold. A vote and the tally take the proposal's row lock, so a vote
// cast before the deadline is either counted or refused, never lost.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { inTransaction } from '../db/transaction.js';
import { JarvisProblem } from '../manifest/errors.js';
import type { CooperativeSettings, EarningRates, VotingRules } from './cooperative-settings.js';
import type { Reputation } from './reputation.js';

export type ProposalEffect =
  { kind: 'rates'; rates: Partial<EarningRates> } | { kind: 'voting'; voting: Partial<VotingRules> } | { kind: 'runbook'; runbook: string; environment: string; inputs: Record<string, unknown> };

export type VoteChoice = 'yes' | 'no' | 'abstain';

export interface Tally {
  members: number;
  voters: number;
  yes: number;
  no: number;
  abstain: number;
  /** The weights counted (equal to the counts without reputation weighting). */
  weights: { all: number; cast: number; yes: number; no: number };
  quorumReached: boolean;
  yesShare: number;
  accepted: boolean;
}

export interface Proposal {
  id: string;
  title: string;
  text: string;
  effect: ProposalEffect | null;
  status: 'voting' | 'accepted' | 'rejected';
  proposedBy: string;
  opensAt: string;
  closesAt: string;
  quorum: number;
  threshold: number;
  weighting: VotingRules['weighting'];
  tally: Tally | null;
  effectResult: Record<string, unknown> | null;
  workflowId: string;
  votes?: Array<{ email: string; vote: VoteChoice; reason: string; at: string }>;
}

interface ProposalRow {
  id: string;
  title: string;
  text: string;
  effect: ProposalEffect | null;
  status: Proposal['status'];
  proposed_by: string;
  proposed_by_email: string;
  opens_at: Date;
  closes_at: Date;
  quorum: number;
  threshold: number;
  weighting: VotingRules['weighting'];
  tally: Tally | null;
  effect_result: Record<string, unknown> | null;
  workflow_id: string;
}

const viewOf = (row: ProposalRow): Proposal => ({
  id: row.id,
  title: row.title,
  text: row.text,
  effect: row.effect,
  status: row.status,
  proposedBy: row.proposed_by_email,
  opensAt: row.opens_at.toISOString(),
  closesAt: row.closes_at.toISOString(),
  quorum: row.quorum,
  threshold: row.threshold,
  weighting: row.weighting,
  tally: row.tally,
  effectResult: row.effect_result,
  workflowId: row.workflow_id,
});

export const proposalWorkflowId = (id: string) => `cooperative-proposal.${id}`;

/** What applies an accepted runbook effect: a run started as the proposer, through the normal start path. */
export type RunbookEffectStarter = (effect: Extract<ProposalEffect, { kind: 'runbook' }>, proposer: { id: string; email: string }, proposalId: string) => Promise<{ runId: string }>;

export class Governance {
  constructor(
    private readonly pool: pg.Pool,
    private readonly settings: CooperativeSettings,
    private readonly reputation: Reputation,
    private readonly startRunbook: RunbookEffectStarter,
  ) {}

  /** Records a proposal under the current voting rules; its workflow is started by the caller. */
  async propose(proposer: { id: string; email: string }, input: { title: string; text: string; effect?: ProposalEffect; votingMs: number }): Promise<Proposal> {
    const { voting } = await this.settings.view();
    const id = randomUUID();
    const { rows } = await this.pool.query<ProposalRow>(
      `INSERT INTO cooperative_proposals (id, title, text, effect, proposed_by, proposed_by_email, closes_at, quorum, threshold, weighting, workflow_id)
       VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7::double precision / 1000), $8, $9, $10, $11) RETURNING *`,
      [
        id,
        input.title,
        input.text,
        input.effect ? JSON.stringify(input.effect) : null,
        proposer.id,
        proposer.email,
        input.votingMs,
        voting.quorum,
        voting.threshold,
        voting.weighting,
        proposalWorkflowId(id),
      ],
    );
    return viewOf(rows[0]!);
  }

  async list(filter: { status?: Proposal['status']; limit?: number } = {}): Promise<Proposal[]> {
    const { rows } = await this.pool.query<ProposalRow>(`SELECT * FROM cooperative_proposals WHERE ($1::text IS NULL OR status = $1) ORDER BY opens_at DESC LIMIT $2`, [
      filter.status ?? null,
      filter.limit ?? 100,
    ]);
    return rows.map(viewOf);
  }

  async get(id: string): Promise<Proposal> {
    const { rows } = await this.pool.query<ProposalRow>('SELECT * FROM cooperative_proposals WHERE id = $1', [id]);
    if (!rows[0]) throw new JarvisProblem(`no proposal ${id}`, 'not-found');
    const votes = await this.pool.query<{ email: string; vote: VoteChoice; reason: string; updated_at: Date }>(
      'SELECT email, vote, reason, updated_at FROM cooperative_votes WHERE proposal_id = $1 ORDER BY updated_at',
      [id],
    );
    return { ...viewOf(rows[0]), votes: votes.rows.map((vote) => ({ email: vote.email, vote: vote.vote, reason: vote.reason, at: vote.updated_at.toISOString() })) };
  }

  /** Casts or changes a member's vote; refused once the proposal closed (by the database's clock). */
  async vote(proposalId: string, voter: { id: string; email: string }, choice: VoteChoice, reason: string): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      // Shared with other votes, exclusive with the tally: the tally waits for votes in flight.
      const { rows } = await client.query<{ open: boolean; status: string }>('SELECT status, closes_at > now() AS open FROM cooperative_proposals WHERE id = $1 FOR SHARE', [proposalId]);
      if (!rows[0]) throw new JarvisProblem(`no proposal ${proposalId}`, 'not-found');
      if (rows[0].status !== 'voting' || !rows[0].open) throw new JarvisProblem('voting on this proposal has closed', 'conflict');
      await client.query(
        `INSERT INTO cooperative_votes (proposal_id, user_id, email, vote, reason) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (proposal_id, user_id) DO UPDATE SET vote = EXCLUDED.vote, reason = EXCLUDED.reason, updated_at = now()`,
        [proposalId, voter.id, voter.email, choice, reason],
      );
    });
  }

  /**
   * Tallies a proposal whose deadline passed, once: a second call answers the
   * first decision. Then applies an accepted proposal's effect, once.
   */
  async close(proposalId: string): Promise<Proposal> {
    const decided = await inTransaction(this.pool, async (client): Promise<ProposalRow> => {
      const { rows } = await client.query<ProposalRow & { due: boolean }>('SELECT *, closes_at <= now() AS due FROM cooperative_proposals WHERE id = $1 FOR UPDATE', [proposalId]);
      const row = rows[0];
      if (!row) throw new JarvisProblem(`no proposal ${proposalId}`, 'not-found');
      if (row.status === 'voting') {
        if (!row.due) throw new Error(`proposal ${proposalId} closes at ${row.closes_at.toISOString()}, not yet`);
        const tally = await this.tally(client, row);
        const updated = await client.query<ProposalRow>(`UPDATE cooperative_proposals SET status = $2, tally = $3, decided_at = now() WHERE id = $1 RETURNING *`, [
          proposalId,
          tally.accepted ? 'accepted' : 'rejected',
          JSON.stringify(tally),
        ]);
        return updated.rows[0]!;
      }
      return row;
    });
    if (decided.status === 'accepted' && decided.effect && !decided.effect_result) {
      const result = await this.apply(decided);
      await this.pool.query('UPDATE cooperative_proposals SET effect_result = $2 WHERE id = $1', [proposalId, JSON.stringify(result)]);
    }
    return this.get(proposalId);
  }

  private async tally(client: pg.PoolClient, proposal: ProposalRow): Promise<Tally> {
    const members = await client.query<{ id: string }>('SELECT id FROM users WHERE NOT disabled');
    const votes = await client.query<{ user_id: string; vote: VoteChoice }>('SELECT user_id, vote FROM cooperative_votes WHERE proposal_id = $1', [proposal.id]);
    const weightOf = new Map<string, number>();
    for (const member of members.rows) {
      weightOf.set(member.id, proposal.weighting === 'reputation' ? (await this.reputation.ofMember(member.id, proposal.closes_at)).score : 1);
    }
    const counts = { yes: 0, no: 0, abstain: 0 };
    const weights = { all: [...weightOf.values()].reduce((sum, weight) => sum + weight, 0), cast: 0, yes: 0, no: 0 };
    for (const vote of votes.rows) {
      const weight = weightOf.get(vote.user_id);
      // A member disabled since voting no longer counts.
      if (weight === undefined) continue;
      counts[vote.vote] += 1;
      weights.cast += weight;
      if (vote.vote !== 'abstain') weights[vote.vote] += weight;
    }
    const quorumReached = weights.all > 0 && weights.cast / weights.all >= proposal.quorum;
    const yesShare = weights.yes + weights.no === 0 ? 0 : weights.yes / (weights.yes + weights.no);
    return { members: members.rows.length, voters: counts.yes + counts.no + counts.abstain, ...counts, weights, quorumReached, yesShare, accepted: quorumReached && yesShare > proposal.threshold };
  }

  private async apply(proposal: ProposalRow): Promise<Record<string, unknown>> {
    const effect = proposal.effect!;
    const by = `proposal ${proposal.id}`;
    try {
      if (effect.kind === 'rates') return { applied: true, rates: (await this.settings.change('rates', effect.rates, by)).rates };
      if (effect.kind === 'voting') return { applied: true, voting: (await this.settings.change('voting', effect.voting, by)).voting };
      return { applied: true, ...(await this.startRunbook(effect, { id: proposal.proposed_by, email: proposal.proposed_by_email }, proposal.id)) };
    } catch (error) {
      // Accepted but not applicable (the proposer lost the right to start the runbook): said, not retried forever.
      if (error instanceof JarvisProblem) return { applied: false, error: error.message };
      throw error;
    }
  }
}
