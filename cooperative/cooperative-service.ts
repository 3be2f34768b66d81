// The cooperative as the API and the CLI see it: accounts named by reference
// (`member:EMAIL`, `node:NAME` or `node:ENVIRONMENT/NAME`, `issuance`), who
// may move credits from which account, transfers through the transfer
// workflow, statements. One cooperative per installation: every user is a
// member; treasurers (granted by an admin) move credits of every account.
import type pg from 'pg';
import { JarvisProblem } from '../manifest/errors.js';
import { environmentsWhere, type Principal } from '../api/rbac.js';
import { ISSUANCE_ACCOUNT_ID, LedgerRefusal, type Account, type Ledger, type StatementLine, type TransferResult } from './ledger.js';
import type { TransferService } from './transfer-service.js';
import type { CooperativeSettings } from './cooperative-settings.js';
import type { Earning, Earnings } from './earnings.js';
import type { Client } from '@temporalio/client';
import { COOPERATIVE_PROPOSAL_WORKFLOW, type CooperativeProposalInput } from '../workflows/cooperative-proposal.js';
import type { Governance, Proposal, ProposalEffect, VoteChoice } from './governance.js';
import type { MemberReputation, NodeReputation, Reputation, Trend } from './reputation.js';

export type CooperativeRole = 'member' | 'treasurer';

export interface AccountView extends Account {
  reference: string;
}

export interface TransferAsked {
  from: string;
  to: string;
  amount: number;
  memo?: string;
  idempotencyKey?: string;
}

const REFERENCE = /^(member:[^\s]{3,320}|node:(?:[a-z0-9][a-z0-9-]*\/)?[A-Za-z0-9][A-Za-z0-9._-]{0,62}|issuance)$/;

export class CooperativeService {
  constructor(
    private readonly pool: pg.Pool,
    private readonly ledger: Ledger,
    private readonly transfers: TransferService,
    readonly parts: { settings: CooperativeSettings; earnings: Earnings; governance: Governance; reputation: Reputation; temporal: Client; taskQueue: string },
  ) {}

  /**
   * A proposal, and the workflow that tallies it when its window closes. A
   * runbook effect must be one the proposer may start there (`mayStart`,
   * decided by the API); it is started as them, with its approvals, if accepted.
   */
  async propose(
    principal: Principal,
    input: { title: string; text: string; effect?: ProposalEffect; votingSeconds: number },
    mayStart: (effect: Extract<ProposalEffect, { kind: 'runbook' }>) => void,
  ): Promise<Proposal> {
    if (input.effect?.kind === 'runbook') mayStart(input.effect);
    const proposal = await this.parts.governance.propose(principal, { title: input.title, text: input.text, ...(input.effect ? { effect: input.effect } : {}), votingMs: input.votingSeconds * 1_000 });
    const start: CooperativeProposalInput = { proposalId: proposal.id, closesAt: proposal.closesAt };
    await this.parts.temporal.workflow.start(COOPERATIVE_PROPOSAL_WORKFLOW, { workflowId: proposal.workflowId, taskQueue: this.parts.taskQueue, args: [start] });
    return proposal;
  }

  async vote(principal: Principal, proposalId: string, choice: VoteChoice, reason: string): Promise<Proposal> {
    await this.parts.governance.vote(proposalId, principal, choice, reason);
    return this.parts.governance.get(proposalId);
  }

  /** A node's reputation, or a member's, explained by its components, with its trend. */
  async reputationOf(reference: string): Promise<{ account: AccountView; reputation: (NodeReputation | MemberReputation) & { trend: Trend } }> {
    const account = await this.resolve(reference);
    if (account.nodeId) return { account, reputation: await this.parts.reputation.ofNode(account.nodeId) };
    if (account.userId) return { account, reputation: await this.parts.reputation.ofMember(account.userId) };
    throw new JarvisProblem(`${reference} has no reputation: only nodes and members do`, 'invalid');
  }

  /** What a node earned, period by period, newest first. */
  async earningsOf(reference: string, limit: number): Promise<{ account: AccountView; earnings: Earning[] }> {
    const account = await this.resolve(reference);
    if (!account.nodeId) throw new JarvisProblem(`${reference} is not a node: only nodes earn`, 'invalid');
    return { account, earnings: await this.parts.earnings.history(account.nodeId, limit) };
  }

  /** Treasurer only when granted, even for admins: who moves others' credits is an explicit, audited grant. */
  async rolesOf(principal: Principal): Promise<CooperativeRole[]> {
    const { rows } = await this.pool.query<{ role: string }>('SELECT role FROM cooperative_roles WHERE user_id = $1', [principal.id]);
    return rows.some((row) => row.role === 'treasurer') ? ['member', 'treasurer'] : ['member'];
  }

  /** Admins (of any environment, as for users and environments) grant and revoke the treasurer role. */
  mayGrantRoles(principal: Principal): boolean {
    return environmentsWhere(principal, 'administer').length > 0;
  }

  async isTreasurer(principal: Principal): Promise<boolean> {
    return (await this.rolesOf(principal)).includes('treasurer');
  }

  async grantTreasurer(email: string, grantedBy: string): Promise<void> {
    const { rows } = await this.pool.query<{ id: string }>('SELECT id FROM users WHERE email = $1', [email]);
    if (!rows[0]) throw new JarvisProblem(`no user ${email}`, 'not-found');
    await this.pool.query(`INSERT INTO cooperative_roles (user_id, role, granted_by) VALUES ($1, 'treasurer', $2) ON CONFLICT DO NOTHING`, [rows[0].id, grantedBy]);
  }

  async revokeTreasurer(email: string): Promise<void> {
    const { rowCount } = await this.pool.query(`DELETE FROM cooperative_roles WHERE role = 'treasurer' AND user_id = (SELECT id FROM users WHERE email = $1)`, [email]);
    if (rowCount === 0) throw new JarvisProblem(`${email} is not treasurer`, 'not-found');
  }

  async treasurers(): Promise<string[]> {
    const { rows } = await this.pool.query<{ email: string }>(`SELECT u.email FROM cooperative_roles r JOIN users u ON u.id = r.user_id WHERE r.role = 'treasurer' ORDER BY u.email`);
    return rows.map((row) => row.email);
  }

  /** The caller's own member account (opened on first use). */
  async ownAccount(principal: Principal): Promise<AccountView> {
    return this.view(await this.ledger.memberAccount(principal.id, principal.email));
  }

  /** Resolves a reference to its account, opening a member's or a node's account on first use. */
  async resolve(reference: string): Promise<AccountView> {
    if (!REFERENCE.test(reference)) throw new JarvisProblem(`"${reference}" names no account: use member:EMAIL, node:NAME, node:ENVIRONMENT/NAME or issuance`, 'invalid');
    if (reference === 'issuance') return this.view((await this.ledger.account(ISSUANCE_ACCOUNT_ID))!);
    if (reference.startsWith('member:')) {
      const email = reference.slice('member:'.length);
      const { rows } = await this.pool.query<{ id: string; email: string }>('SELECT id, email FROM users WHERE email = $1', [email]);
      if (!rows[0]) throw new JarvisProblem(`no member ${email}`, 'not-found');
      return this.view(await this.ledger.memberAccount(rows[0].id, rows[0].email));
    }
    const name = reference.slice('node:'.length);
    const [environment, node] = name.includes('/') ? (name.split('/') as [string, string]) : [undefined, name];
    const { rows } = await this.pool.query<{ id: string; name: string; environment: string }>(
      `SELECT n.id, n.name, e.name AS environment FROM nodes n JOIN environments e ON e.id = n.environment_id WHERE n.name = $1 AND ($2::text IS NULL OR e.name = $2) ORDER BY e.name`,
      [node, environment ?? null],
    );
    if (rows.length === 0) throw new JarvisProblem(`no node ${name}`, 'not-found');
    if (rows.length > 1) throw new JarvisProblem(`${node} names a node in ${rows.map((row) => row.environment).join(' and ')}: say which, as node:ENVIRONMENT/${node}`, 'conflict');
    return this.view(await this.ledger.nodeAccount(rows[0]!.id, `${rows[0]!.environment}/${rows[0]!.name}`));
  }

  async accounts(): Promise<AccountView[]> {
    return (await this.ledger.accounts()).map((account) => this.view(account));
  }

  /**
   * A member moves credits from their own account; a treasurer from any
   * member or node account, and issues from the issuance account.
   */
  async transfer(principal: Principal, asked: TransferAsked): Promise<TransferResult & { workflowId: string }> {
    const [from, to] = await Promise.all([this.resolve(asked.from), this.resolve(asked.to)]);
    const treasurer = await this.isTreasurer(principal);
    if (!treasurer && from.userId !== principal.id) throw new JarvisProblem(`a member moves credits from their own account only; ${from.reference} needs the treasurer role`, 'forbidden');
    if (to.kind === 'issuance') throw new JarvisProblem('credits are not paid back into the issuance account', 'invalid');
    try {
      return await this.transfers.transfer({
        requestedBy: principal.id,
        actorEmail: principal.email,
        ...(asked.idempotencyKey ? { idempotencyKey: asked.idempotencyKey } : {}),
        kind: from.kind === 'issuance' ? 'issue' : 'transfer',
        from: from.id,
        to: to.id,
        amount: asked.amount,
        ...(asked.memo ? { memo: asked.memo } : {}),
      });
    } catch (error) {
      if (error instanceof LedgerRefusal) throw new JarvisProblem(error.message, 'invalid');
      throw error;
    }
  }

  async statement(reference: string, range: { from?: Date; to?: Date }): Promise<{ account: AccountView; lines: StatementLine[] }> {
    const account = await this.resolve(reference);
    return { account, lines: await this.ledger.statement(account.id, range) };
  }

  private view(account: Account): AccountView {
    const reference = account.kind === 'issuance' ? 'issuance' : `${account.kind}:${account.label}`;
    return { ...account, reference };
  }
}
