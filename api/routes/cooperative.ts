// The cooperative's credits: every signed-in user is a member who reads the
// ledger (the cooperative's common book) and moves credits from their own
// account; treasurers move credits of every account and issue new ones;
// admins grant the treasurer role. Every change is audited (and every ledger
// entry again, in the transaction that writes it).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { statementCsv } from '../../cooperative/ledger.js';
import type { CooperativeService } from '../../cooperative/cooperative-service.js';
import { JarvisProblem } from '../../manifest/errors.js';
import { auditTarget } from '../plugins/audit.js';
import { principalOf } from '../plugins/auth.js';
import { problemResponses } from '../schemas.js';
import type { RunService } from '../../runs/run-service.js';
import { mayStartRunbook, startRefusal } from '../rbac.js';
import type { ProposalEffect } from '../../cooperative/governance.js';

const Reference = Type.String({ minLength: 1, maxLength: 330, description: 'member:EMAIL, node:NAME, node:ENVIRONMENT/NAME or issuance' });
const AccountSchema = Type.Object({
  id: Type.String(),
  reference: Type.String(),
  kind: Type.String({ description: 'member, node or issuance' }),
  label: Type.String(),
  balance: Type.Integer({ description: 'Credits; only the issuance account is negative (minus all credits issued)' }),
});
const TransferResultSchema = Type.Object({
  transferId: Type.String(),
  workflowId: Type.String(),
  status: Type.String({ description: 'applied, or refused (not enough credits)' }),
  reason: Type.Optional(Type.String()),
  from: Type.String(),
  to: Type.String(),
  amount: Type.Integer(),
  replayed: Type.Boolean({ description: 'The Idempotency-Key was used before: this is the first transfer made with it' }),
});
const StatementLineSchema = Type.Object({
  entryId: Type.Integer(),
  at: Type.String(),
  transferId: Type.String(),
  kind: Type.String(),
  counterparty: Type.String(),
  memo: Type.String(),
  amount: Type.Integer(),
  balanceAfter: Type.Integer(),
});
const AccountParams = Type.Object({ reference: Reference });
const EmailBody = Type.Object({ email: Type.String({ format: 'email', maxLength: 320 }) }, { additionalProperties: false });

const accountOut = (account: { id: string; reference: string; kind: string; label: string; balance: number }) => ({
  id: account.id,
  reference: account.reference,
  kind: account.kind,
  label: account.label,
  balance: account.balance,
});

function dateOf(text: string | undefined, name: string): Date | undefined {
  if (text === undefined) return undefined;
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw new JarvisProblem(`${name} must be a date-time`, 'invalid');
  return date;
}

const Fraction = Type.Number({ minimum: 0, maximum: 1 });
const EffectSchema = Type.Union(
  [
    Type.Object(
      {
        kind: Type.Literal('rates'),
        rates: Type.Object(
          { uptimeCreditsPerHour: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000 })), creditsPerStep: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000 })) },
          { additionalProperties: false, minProperties: 1 },
        ),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        kind: Type.Literal('voting'),
        voting: Type.Object(
          { quorum: Type.Optional(Fraction), threshold: Type.Optional(Fraction), weighting: Type.Optional(Type.Union([Type.Literal('one-member-one-vote'), Type.Literal('reputation')])) },
          { additionalProperties: false, minProperties: 1 },
        ),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        kind: Type.Literal('runbook'),
        runbook: Type.String({ minLength: 1, maxLength: 100, pattern: '^[a-z0-9][a-z0-9-]*$' }),
        environment: Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-z0-9][a-z0-9-]*$' }),
        inputs: Type.Record(Type.String(), Type.Unknown()),
      },
      { additionalProperties: false },
    ),
  ],
  { description: 'What an accepted proposal does: change the earning rates, change the voting rules, or start a runbook in an environment (as the proposer, with its approvals)' },
);
const TallySchema = Type.Object({
  members: Type.Integer(),
  voters: Type.Integer(),
  yes: Type.Integer(),
  no: Type.Integer(),
  abstain: Type.Integer(),
  weights: Type.Object({ all: Type.Number(), cast: Type.Number(), yes: Type.Number(), no: Type.Number() }),
  quorumReached: Type.Boolean(),
  yesShare: Type.Number(),
  accepted: Type.Boolean(),
});
const ProposalSchema = Type.Object({
  id: Type.String(),
  title: Type.String(),
  text: Type.String(),
  effect: Type.Union([EffectSchema, Type.Null()]),
  status: Type.String({ description: 'voting, accepted or rejected' }),
  proposedBy: Type.String(),
  opensAt: Type.String(),
  closesAt: Type.String(),
  quorum: Type.Number(),
  threshold: Type.Number(),
  weighting: Type.String(),
  tally: Type.Union([TallySchema, Type.Null()]),
  effectResult: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  workflowId: Type.String(),
  votes: Type.Optional(Type.Array(Type.Object({ email: Type.String(), vote: Type.String(), reason: Type.String(), at: Type.String() }))),
});
const ProposalParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const ReputationSchema = Type.Object({
  account: AccountSchema,
  score: Type.Number({ description: '0 to 100 (see the formula in cooperative/reputation.ts)' }),
  components: Type.Record(Type.String(), Type.Number()),
  trend: Type.Object({ points: Type.Array(Type.Object({ at: Type.String(), score: Type.Number() })), change: Type.Number() }),
});

export const cooperativeRoutes: FastifyPluginAsyncTypebox<{ cooperative: CooperativeService; runs: RunService }> = async (app, { cooperative, runs }) => {
  app.get(
    '/cooperative/me',
    {
      schema: {
        tags: ['cooperative'],
        summary: "The caller's account and cooperative roles",
        response: { 200: Type.Object({ account: AccountSchema, roles: Type.Array(Type.String()), mayGrantRoles: Type.Boolean() }), ...problemResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return { account: accountOut(await cooperative.ownAccount(principal)), roles: await cooperative.rolesOf(principal), mayGrantRoles: cooperative.mayGrantRoles(principal) };
    },
  );

  app.get(
    '/cooperative/accounts',
    { schema: { tags: ['cooperative'], summary: 'Every account with its balance (any member)', response: { 200: Type.Array(AccountSchema), ...problemResponses } } },
    async () => (await cooperative.accounts()).map(accountOut),
  );

  app.get(
    '/cooperative/accounts/:reference',
    { schema: { tags: ['cooperative'], summary: 'One account with its balance (any member)', params: AccountParams, response: { 200: AccountSchema, ...problemResponses } } },
    async (request) => accountOut(await cooperative.resolve(request.params.reference)),
  );

  app.get(
    '/cooperative/accounts/:reference/statement',
    {
      schema: {
        tags: ['cooperative'],
        summary: "An account's entries over [from, to), oldest first, as JSON or CSV (any member)",
        params: AccountParams,
        querystring: Type.Object({
          from: Type.Optional(Type.String({ format: 'date-time' })),
          to: Type.Optional(Type.String({ format: 'date-time' })),
          format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])),
        }),
        response: { 200: Type.Union([Type.Object({ account: AccountSchema, lines: Type.Array(StatementLineSchema) }), Type.String({ description: 'CSV' })]), ...problemResponses },
      },
    },
    async (request, reply) => {
      const { account, lines } = await cooperative.statement(request.params.reference, { ...optional('from', dateOf(request.query.from, 'from')), ...optional('to', dateOf(request.query.to, 'to')) });
      if (request.query.format === 'csv') {
        const name = account.reference.replace(/[^A-Za-z0-9._-]+/g, '-');
        return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="statement-${name}.csv"`).send(statementCsv(lines));
      }
      return { account: accountOut(account), lines };
    },
  );

  app.post(
    '/cooperative/transfers',
    {
      schema: {
        tags: ['cooperative'],
        summary: 'Move credits (a member from their own account; a treasurer from any, or issue from issuance); an Idempotency-Key makes a retried request apply once',
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) }),
        body: Type.Object(
          {
            from: Reference,
            to: Reference,
            amount: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
            memo: Type.Optional(Type.String({ maxLength: 500 })),
            idempotencyKey: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'For clients that cannot set the Idempotency-Key header; the same key' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: TransferResultSchema, 201: TransferResultSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const { from, to, amount, memo } = request.body;
      const header = request.headers['idempotency-key'];
      if (header && request.body.idempotencyKey && header !== request.body.idempotencyKey) throw new JarvisProblem('the Idempotency-Key header and idempotencyKey differ', 'invalid');
      const key = header ?? request.body.idempotencyKey;
      auditTarget(request, 'cooperative-transfer', undefined, { from, to, amount, ...(key ? { idempotencyKey: key } : {}) });
      const result = await cooperative.transfer(principalOf(request), { from, to, amount, ...(memo ? { memo } : {}), ...(key ? { idempotencyKey: key } : {}) });
      auditTarget(request, 'cooperative-transfer', result.transferId, { from, to, amount, status: result.status, replayed: result.replayed, ...(key ? { idempotencyKey: key } : {}) });
      return reply.code(result.replayed ? 200 : 201).send(result);
    },
  );

  app.get(
    '/cooperative/treasurers',
    { schema: { tags: ['cooperative'], summary: 'Who holds the treasurer role (any member)', response: { 200: Type.Array(Type.String()), ...problemResponses } } },
    async () => cooperative.treasurers(),
  );

  app.post(
    '/cooperative/treasurers',
    { schema: { tags: ['cooperative'], summary: 'Grant the treasurer role (an admin)', body: EmailBody, response: { 204: Type.Null(), ...problemResponses } } },
    async (request, reply) => {
      auditTarget(request, 'cooperative-role', request.body.email, { role: 'treasurer', grant: true });
      if (!cooperative.mayGrantRoles(principalOf(request))) throw new JarvisProblem('granting the treasurer role needs the admin role', 'forbidden');
      await cooperative.grantTreasurer(request.body.email, principalOf(request).email);
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/cooperative/treasurers/:email',
    { schema: { tags: ['cooperative'], summary: 'Revoke the treasurer role (an admin)', params: EmailBody, response: { 204: Type.Null(), ...problemResponses } } },
    async (request, reply) => {
      auditTarget(request, 'cooperative-role', request.params.email, { role: 'treasurer', grant: false });
      if (!cooperative.mayGrantRoles(principalOf(request))) throw new JarvisProblem('revoking the treasurer role needs the admin role', 'forbidden');
      await cooperative.revokeTreasurer(request.params.email);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/cooperative/settings',
    {
      schema: {
        tags: ['cooperative'],
        summary: 'Earning rates and voting rules, as governance set them (any member)',
        response: {
          200: Type.Object({
            rates: Type.Object({ uptimeCreditsPerHour: Type.Number(), creditsPerStep: Type.Number() }),
            voting: Type.Object({ quorum: Type.Number(), threshold: Type.Number(), weighting: Type.String() }),
          }),
          ...problemResponses,
        },
      },
    },
    async () => cooperative.parts.settings.view(),
  );

  app.get(
    '/cooperative/accounts/:reference/earnings',
    {
      schema: {
        tags: ['cooperative'],
        summary: "A node's earnings per period with the contribution they paid for, newest first (any member)",
        params: AccountParams,
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })) }),
        response: {
          200: Type.Array(
            Type.Object({
              periodStart: Type.String(),
              periodEnd: Type.String(),
              checksOk: Type.Integer(),
              checksFailed: Type.Integer(),
              stepsDone: Type.Integer(),
              stepsFailed: Type.Integer(),
              credits: Type.Integer(),
              transferId: Type.Union([Type.String(), Type.Null()]),
            }),
          ),
          ...problemResponses,
        },
      },
    },
    async (request) => (await cooperative.earningsOf(request.params.reference, request.query.limit ?? 100)).earnings,
  );

  app.get(
    '/cooperative/accounts/:reference/reputation',
    {
      schema: {
        tags: ['cooperative'],
        summary: "A node's or a member's reputation, its components and its trend over the last week (any member)",
        params: AccountParams,
        response: { 200: ReputationSchema, ...problemResponses },
      },
    },
    async (request) => {
      const { account, reputation } = await cooperative.reputationOf(request.params.reference);
      return { account: accountOut(account), ...reputation, components: { ...reputation.components } };
    },
  );

  app.get(
    '/cooperative/proposals',
    {
      schema: {
        tags: ['cooperative'],
        summary: 'Proposals, newest first (any member)',
        querystring: Type.Object({
          status: Type.Optional(Type.Union([Type.Literal('voting'), Type.Literal('accepted'), Type.Literal('rejected')])),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
        }),
        response: { 200: Type.Array(ProposalSchema), ...problemResponses },
      },
    },
    async (request) => cooperative.parts.governance.list({ ...optional('status', request.query.status), ...optional('limit', request.query.limit) }),
  );

  app.get(
    '/cooperative/proposals/:id',
    {
      schema: {
        tags: ['cooperative'],
        summary: 'A proposal with its votes and, once closed, its tally and effect (any member)',
        params: ProposalParams,
        response: { 200: ProposalSchema, ...problemResponses },
      },
    },
    async (request) => cooperative.parts.governance.get(request.params.id),
  );

  app.post(
    '/cooperative/proposals',
    {
      schema: {
        tags: ['cooperative'],
        summary: 'Propose (any member); a runbook effect needs the right to start that runbook there. Tallied when the voting window closes',
        body: Type.Object(
          {
            title: Type.String({ minLength: 1, maxLength: 200 }),
            text: Type.String({ maxLength: 20_000 }),
            effect: Type.Optional(EffectSchema),
            votingSeconds: Type.Integer({ minimum: 1, maximum: 30 * 86_400 }),
          },
          { additionalProperties: false },
        ),
        response: { 201: ProposalSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      auditTarget(request, 'cooperative-proposal', undefined, { title: request.body.title, effect: request.body.effect ?? null });
      const principal = principalOf(request);
      const proposal = await cooperative.propose(principal, { ...request.body, ...optional('effect', request.body.effect as ProposalEffect | undefined) }, (effect) => {
        const runbook = runs.compileRunbook(effect.runbook).runbook;
        if (!mayStartRunbook(principal, runbook, effect.environment)) throw new JarvisProblem(startRefusal(runbook, effect.environment), 'forbidden');
      });
      auditTarget(request, 'cooperative-proposal', proposal.id, { title: proposal.title, effect: proposal.effect, closesAt: proposal.closesAt });
      return reply.code(201).send(proposal);
    },
  );

  app.post(
    '/cooperative/proposals/:id/votes',
    {
      schema: {
        tags: ['cooperative'],
        summary: "Vote, or change one's vote, until the proposal closes (any member); 409 after",
        params: ProposalParams,
        body: Type.Object(
          { vote: Type.Union([Type.Literal('yes'), Type.Literal('no'), Type.Literal('abstain')]), reason: Type.Optional(Type.String({ maxLength: 2_000 })) },
          { additionalProperties: false },
        ),
        response: { 200: ProposalSchema, ...problemResponses },
      },
    },
    async (request) => {
      auditTarget(request, 'cooperative-proposal', request.params.id, { vote: request.body.vote });
      return cooperative.vote(principalOf(request), request.params.id, request.body.vote, request.body.reason ?? '');
    },
  );
};

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
