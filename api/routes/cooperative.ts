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

export const cooperativeRoutes: FastifyPluginAsyncTypebox<{ cooperative: CooperativeService }> = async (app, { cooperative }) => {
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
};

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
