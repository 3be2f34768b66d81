// Governance as members use it through the API: proposals with a voting
// window, votes changed until the close, a durable workflow that tallies at
// the deadline, effects applied only when quorum and threshold are reached
// (a runbook effect through the normal start path, so its approval holds),
// and votes after the deadline refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiForTests } from './api-harness.js';
import type { AddressInfo } from 'node:net';
import { scratchDir, writeManifests } from './harness.js';
import { runCli } from './processes.js';
import { waitFor } from './wait.js';

const PASSWORD = 'correct horse battery staple';
const MEMBERS = ['alice', 'bob', 'carol', 'dave'];
const chore = `
name: cooperative-chore
title: A chore the cooperative votes for
environments: [dev]
requiredRole: operator
steps:
  - id: gate
    approval: { role: approver }
  - id: do
    action: core.noop
`;

let api: Awaited<ReturnType<typeof startApiForTests>>;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  api = await startApiForTests(
    writeManifests({ 'cooperative-chore': chore }),
    MEMBERS.map((name) => ({ email: `${name}@example.org`, password: PASSWORD, grants: name === 'alice' ? ([['dev', 'operator']] as Array<[string, 'operator']>) : [] })),
  );
  for (const name of MEMBERS) tokens[name] = await api.logIn(`${name}@example.org`, PASSWORD);
}, 120_000);

afterAll(async () => api?.stop());

const call = (who: string, method: 'GET' | 'POST', url: string, payload?: object) =>
  api.app.inject({ method, url, headers: { authorization: `Bearer ${tokens[who]}` }, ...(payload ? { payload } : {}) });

async function propose(who: string, body: object): Promise<{ id: string; workflowId: string; closesAt: string }> {
  const response = await call(who, 'POST', '/cooperative/proposals', { votingSeconds: 4, text: 'as discussed', ...body });
  expect(response.statusCode, response.body).toBe(201);
  return response.json();
}

async function vote(who: string, id: string, choice: 'yes' | 'no' | 'abstain', reason = '') {
  const response = await call(who, 'POST', `/cooperative/proposals/${id}/votes`, { vote: choice, reason });
  expect(response.statusCode, response.body).toBe(200);
}

describe('cooperative governance', () => {
  it('applies the effect of a proposal that reaches quorum and threshold, and not of one that misses either; refuses votes after the deadline', async () => {
    // Four members; quorum 0.5 (two voters), accepted above half of the yes and no votes.
    const rates = await propose('alice', { title: 'Pay steps more', effect: { kind: 'rates', rates: { creditsPerStep: 7 } } });
    const chores = await propose('alice', { title: 'Run the chore', effect: { kind: 'runbook', runbook: 'cooperative-chore', environment: 'dev', inputs: {} } });
    const quiet = await propose('bob', { title: 'Pay steps a lot more', effect: { kind: 'rates', rates: { creditsPerStep: 99 } } });
    const split = await propose('carol', { title: 'Weigh votes by reputation', effect: { kind: 'voting', voting: { weighting: 'reputation' } } });
    // A member who may not start the runbook cannot propose running it.
    expect(
      (await call('bob', 'POST', '/cooperative/proposals', { title: 'x', text: '', votingSeconds: 4, effect: { kind: 'runbook', runbook: 'cooperative-chore', environment: 'dev', inputs: {} } }))
        .statusCode,
    ).toBe(403);

    await vote('alice', rates.id, 'yes');
    await vote('bob', rates.id, 'yes', 'fair');
    // Carol changes her mind before the close: her last vote counts.
    await vote('carol', rates.id, 'yes');
    await vote('carol', rates.id, 'no', 'too much');
    await vote('alice', chores.id, 'yes');
    await vote('dave', chores.id, 'yes');
    await vote('bob', quiet.id, 'yes');
    await vote('carol', split.id, 'yes');
    await vote('dave', split.id, 'no');

    const closed = await Promise.all([rates, chores, quiet, split].map((proposal) => api.temporal.workflow.getHandle(proposal.workflowId).result()));
    const [ratesClosed, choresClosed, quietClosed, splitClosed] = closed as Array<{ status: string; tally: Record<string, unknown>; effectResult: Record<string, unknown> | null }>;
    expect(ratesClosed).toMatchObject({ status: 'accepted', tally: { members: 4, voters: 3, yes: 2, no: 1, quorumReached: true, accepted: true }, effectResult: { applied: true } });
    expect(quietClosed).toMatchObject({ status: 'rejected', tally: { voters: 1, quorumReached: false, accepted: false }, effectResult: null });
    expect(splitClosed).toMatchObject({ status: 'rejected', tally: { voters: 2, quorumReached: true, yesShare: 0.5, accepted: false }, effectResult: null });
    expect(choresClosed).toMatchObject({ status: 'accepted', effectResult: { applied: true, runId: expect.any(String) } });

    // Only the accepted change took effect.
    expect((await call('dave', 'GET', '/cooperative/settings')).json()).toMatchObject({ rates: { creditsPerStep: 7 }, voting: { weighting: 'one-member-one-vote' } });
    // The chore started as its proposer and waits for its approval, as any start of it would.
    const runId = choresClosed!.effectResult!.runId as string;
    await waitFor(async () => (await api.services.runs.showRun(runId)).progress?.steps[0]?.status === 'waiting', { message: 'the chore to wait for its approval' });
    expect((await api.services.runs.showRun(runId)).startedBy).toBe('alice@example.org');

    // After the deadline: refused, and the tally stands.
    const late = await call('dave', 'POST', `/cooperative/proposals/${quiet.id}/votes`, { vote: 'yes' });
    expect(late.statusCode).toBe(409);
    expect(late.json().detail).toContain('closed');
    const listed = (await call('dave', 'GET', '/cooperative/proposals?status=rejected')).json() as Array<{ id: string }>;
    expect(listed.map((proposal) => proposal.id).sort()).toEqual([quiet.id, split.id].sort());
    const shown = (await call('dave', 'GET', `/cooperative/proposals/${rates.id}`)).json();
    expect(shown.votes.map((entry: { email: string; vote: string }) => [entry.email, entry.vote])).toEqual([
      ['alice@example.org', 'yes'],
      ['bob@example.org', 'yes'],
      ['carol@example.org', 'no'],
    ]);

    // Taking part counts for reputation: carol voted on two of the four closed proposals.
    const reputation = (await call('dave', 'GET', '/cooperative/accounts/member:carol@example.org/reputation')).json();
    expect(reputation.components).toMatchObject({ votedOn: 2, closed: 4 });
    expect(reputation.score).toBeCloseTo(50, 0);
  }, 120_000);

  it('answers the CLI verbs: proposals by status, a vote with its reason, reputation with its trend', async () => {
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    const env = { JARVIS_DATA_DIR: scratchDir() };
    expect((await runCli(['login', '--api', `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`, '--email', 'bob@example.org'], env, `${PASSWORD}\n`)).code).toBe(0);
    const proposed = await runCli(['cooperative', 'governance', 'propose', '--title', 'Pay uptime more', '--uptime-rate', '12', '--voting-hours', '1', '-o', 'json'], env);
    const { id } = JSON.parse(proposed.stdout) as { id: string };
    const voted = await runCli(['cooperative', 'governance', 'vote', '--proposal', id, '--vote', 'yes', '--reason', 'nodes earn it'], env);
    expect(voted.stdout).toContain('Voted yes on "Pay uptime more"');
    const voting = await runCli(['cooperative', 'governance', 'proposals', '--status', 'voting'], env);
    expect(voting.stdout).toMatch(new RegExp(`${id}\\s+Pay uptime more\\s+voting\\s+rates`));
    const shown = await runCli(['cooperative', 'reputation', 'show', '--member', 'carol@example.org', '--trend', '-o', 'yaml'], env);
    expect(shown.stdout).toContain('points:');
    expect(shown.stdout).toMatch(/votedOn: 2/);
    const late = await runCli(['cooperative', 'governance', 'vote', '--proposal', '00000000-0000-4000-8000-000000000000', '--vote', 'yes'], env);
    expect(late.code).toBe(3);
  }, 240_000);
});
