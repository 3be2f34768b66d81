// The cooperative's credits through the API and the CLI, as members and a
// treasurer use them: who may move which credits, idempotent transfers,
// statements, and the audit log.
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiForTests } from './api-harness.js';
import { scratchDir, writeManifests } from './harness.js';
import { runCli, type ProcessEnv } from './processes.js';

const PASSWORD = 'correct horse battery staple';

let api: Awaited<ReturnType<typeof startApiForTests>>;
let apiUrl: string;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  api = await startApiForTests(writeManifests({}), [
    { email: 'admin@example.org', password: PASSWORD, grants: [['prod', 'admin']] },
    { email: 'treasurer@example.org', password: PASSWORD, grants: [['prod', 'viewer']] },
    { email: 'alice@example.org', password: PASSWORD, grants: [['prod', 'operator']] },
    { email: 'bob@example.org', password: PASSWORD, grants: [] },
  ]);
  await api.app.listen({ host: '127.0.0.1', port: 0 });
  apiUrl = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
  for (const name of ['admin', 'treasurer', 'alice', 'bob']) tokens[name] = await api.logIn(`${name}@example.org`, PASSWORD);
  // A node of the inventory, which gets an account of its own.
  await api.services.nodes.createEnrollment({ environment: 'prod', name: 'node-01', labels: {} }, 60_000);
}, 120_000);

afterAll(async () => api?.stop());

const call = (who: string, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object, headers: Record<string, string> = {}) =>
  api.app.inject({ method, url, headers: { authorization: `Bearer ${tokens[who]}`, ...headers }, ...(payload ? { payload } : {}) });

describe('cooperative credits through the API', () => {
  it('lets a member move only their own credits, a treasurer any, and applies a retried transfer once', async () => {
    // Only an admin grants the treasurer role.
    expect((await call('alice', 'POST', '/cooperative/treasurers', { email: 'alice@example.org' })).statusCode).toBe(403);
    expect((await call('admin', 'POST', '/cooperative/treasurers', { email: 'treasurer@example.org' })).statusCode).toBe(204);
    expect((await call('bob', 'GET', '/cooperative/treasurers')).json()).toEqual(['treasurer@example.org']);
    expect((await call('treasurer', 'GET', '/cooperative/me')).json().roles).toEqual(['member', 'treasurer']);
    expect((await call('admin', 'GET', '/cooperative/me')).json()).toMatchObject({ roles: ['member'], mayGrantRoles: true });

    // A member cannot issue credits or spend another member's.
    const issue = { from: 'issuance', to: 'member:alice@example.org', amount: 500, memo: 'opening' };
    expect((await call('alice', 'POST', '/cooperative/transfers', issue)).statusCode).toBe(403);
    const issued = await call('treasurer', 'POST', '/cooperative/transfers', issue, { 'idempotency-key': 'opening-alice' });
    expect(issued.statusCode).toBe(201);
    expect(issued.json()).toMatchObject({ status: 'applied', amount: 500, replayed: false });
    expect((await call('bob', 'POST', '/cooperative/transfers', { from: 'member:alice@example.org', to: 'member:bob@example.org', amount: 1 })).statusCode).toBe(403);

    // Alice pays node-01; the same key sent again answers the same transfer.
    const pay = { from: 'member:alice@example.org', to: 'node:node-01', amount: 120 };
    const first = await call('alice', 'POST', '/cooperative/transfers', pay, { 'idempotency-key': 'pay-1' });
    expect(first.statusCode).toBe(201);
    const again = await call('alice', 'POST', '/cooperative/transfers', pay, { 'idempotency-key': 'pay-1' });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ transferId: first.json().transferId, replayed: true });
    expect((await call('bob', 'GET', '/cooperative/accounts/member:alice@example.org')).json().balance).toBe(380);
    expect((await call('bob', 'GET', '/cooperative/accounts/node:prod%2Fnode-01')).json()).toMatchObject({ reference: 'node:prod/node-01', balance: 120 });

    // More than she holds: refused, recorded, nothing moves.
    const tooMuch = await call('alice', 'POST', '/cooperative/transfers', { ...pay, amount: 381 });
    expect(tooMuch.json()).toMatchObject({ status: 'refused', reason: expect.stringContaining('fewer than 381') });
    expect((await call('alice', 'GET', '/cooperative/me')).json().account.balance).toBe(380);

    // The treasurer moves a node's credits.
    expect((await call('treasurer', 'POST', '/cooperative/transfers', { from: 'node:node-01', to: 'member:bob@example.org', amount: 20 })).json().status).toBe('applied');

    const statement = await call('bob', 'GET', '/cooperative/accounts/member:alice@example.org/statement?format=csv');
    expect(statement.headers['content-type']).toContain('text/csv');
    expect(
      statement.body
        .trim()
        .split('\n')
        .map((line) => line.split(',').slice(3).join(',')),
    ).toEqual(['kind,counterparty,memo,amount,balance_after', 'issue,issuance,opening,500,500', 'transfer,prod/node-01,,-120,380']);

    const audited = await api.prisma.auditEntry.findMany({ where: { targetType: 'cooperative-transfer' }, orderBy: { id: 'asc' } });
    // Each ledger change once, in its transaction; each request once, allowed or not.
    expect(audited.filter((entry) => entry.action.startsWith('cooperative.')).map((entry) => [entry.action, entry.actorEmail, entry.outcome])).toEqual([
      ['cooperative.issue', 'treasurer@example.org', 'success'],
      ['cooperative.transfer', 'alice@example.org', 'success'],
      ['cooperative.transfer', 'alice@example.org', 'failure'],
      ['cooperative.transfer', 'treasurer@example.org', 'success'],
    ]);
    expect(audited.filter((entry) => entry.action === 'POST /cooperative/transfers').map((entry) => entry.outcome)).toEqual([
      'denied',
      'success',
      'denied',
      'success',
      'success',
      'success',
      'success',
    ]);
  });

  it('answers the CLI verbs with --output table, json and yaml', async () => {
    const alice: ProcessEnv = { JARVIS_DATA_DIR: scratchDir() };
    const treasurer: ProcessEnv = { JARVIS_DATA_DIR: scratchDir() };
    expect((await runCli(['login', '--api', apiUrl, '--email', 'alice@example.org'], alice, `${PASSWORD}\n`)).code).toBe(0);
    expect((await runCli(['login', '--api', apiUrl, '--email', 'treasurer@example.org'], treasurer, `${PASSWORD}\n`)).code).toBe(0);

    const balance = await runCli(['cooperative', 'credits', 'balance', '--node', 'node-01'], alice);
    expect(balance.stdout).toMatch(/node:prod\/node-01\s+node\s+100/);
    expect(JSON.parse((await runCli(['cooperative', 'credits', 'balance', '-o', 'json'], alice)).stdout)).toMatchObject({ reference: 'member:alice@example.org', balance: 380 });
    expect((await runCli(['cooperative', 'credits', 'accounts', '-o', 'yaml'], alice)).stdout).toContain('reference: member:bob@example.org');

    const refused = await runCli(['cooperative', 'credits', 'transfer', '--from', 'node-01', '--to', 'bob@example.org', '--amount', '10'], alice);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain('needs the treasurer role');
    const moved = await runCli(['cooperative', 'credits', 'transfer', '--from', 'node-01', '--to', 'bob@example.org', '--amount', '10', '--key', 'cli-1', '-o', 'json'], treasurer);
    expect(JSON.parse(moved.stdout)).toMatchObject({ status: 'applied', replayed: false });
    const repeated = await runCli(['cooperative', 'credits', 'transfer', '--from', 'node-01', '--to', 'bob@example.org', '--amount', '10', '--key', 'cli-1', '-o', 'json'], treasurer);
    expect(JSON.parse(repeated.stdout)).toMatchObject({ transferId: JSON.parse(moved.stdout).transferId, replayed: true });
    expect(JSON.parse((await runCli(['cooperative', 'credits', 'balance', '--member', 'bob@example.org', '-o', 'json'], alice)).stdout).balance).toBe(30);

    const csv = await runCli(['cooperative', 'credits', 'statement', 'bob@example.org', '--csv'], alice);
    expect(csv.stdout.trim().split('\n')).toHaveLength(3);
    const table = await runCli(['cooperative', 'credits', 'statement', 'dev/node-01'], alice);
    expect(table.code).toBe(3);
  }, 300_000);
});
