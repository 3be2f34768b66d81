import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiForTests } from './api-harness.js';
import { scratchDir, writeManifests } from './harness.js';
import { runCli, type ProcessEnv } from './processes.js';
import { waitFor } from './wait.js';

const PASSWORD = 'correct horse battery staple';
const gated = `
name: gated
title: Needs an approval
environments: [prod]
inputs: { type: object, properties: { replicas: { type: integer } }, required: [replicas] }
steps:
  - id: gate
    approval: { role: approver }
`;

let api: Awaited<ReturnType<typeof startApiForTests>>;
let apiUrl: string;

beforeAll(async () => {
  api = await startApiForTests(writeManifests({ gated }), [
    { email: 'ops@example.org', password: PASSWORD, grants: [['prod', 'operator'], ['prod', 'approver']] },
    { email: 'lead@example.org', password: PASSWORD, grants: [['prod', 'approver']] },
  ]);
  await api.app.listen({ host: '127.0.0.1', port: 0 });
  apiUrl = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => api?.stop());

describe('the CLI through the API', () => {
  it('signs in, starts and decides as the signed-in user, with RBAC and audit applied', async () => {
    const ops: ProcessEnv = { JARVIS_DATA_DIR: scratchDir() };
    const lead: ProcessEnv = { JARVIS_DATA_DIR: scratchDir() };
    const wrong = await runCli(['login', '--api', apiUrl, '--email', 'ops@example.org'], ops, 'not the password\n');
    expect(wrong.code).toBe(5);
    expect(wrong.stderr).toContain('email or password is wrong');
    expect((await runCli(['login', '--api', apiUrl, '--email', 'ops@example.org'], ops, `${PASSWORD}\n`)).stdout).toContain('Signed in');
    expect((await runCli(['login', '--api', apiUrl, '--email', 'lead@example.org'], lead, `${PASSWORD}\n`)).code).toBe(0);

    const started = await runCli(['run', 'start', 'gated', '--env', 'prod', '-i', 'replicas=3', '--as', 'someone-else'], ops);
    expect(started.code).toBe(0);
    const id = /Started run (\S+)/.exec(started.stdout)![1]!;
    await waitFor(async () => (await api.services.runs.showRun(id)).progress?.steps[0]?.status === 'waiting', { message: `run ${id} to wait at its gate` });
    const details = await api.services.runs.showRun(id);
    expect(details.startedBy).toBe('ops@example.org');

    const own = await runCli(['run', 'approve', id, 'gate'], ops);
    expect(own.code).toBe(5);
    expect(own.stderr).toContain('ops@example.org started this run and cannot approve it');
    expect((await runCli(['run', 'approve', id, 'gate', '--comment', 'ok'], lead)).stdout).toContain('approved');
    await api.temporal.workflow.getHandle(id).result();
    const listed = JSON.parse((await runCli(['run', 'list', '--runbook', 'gated', '-o', 'json'], lead)).stdout);
    expect(listed.map((run: { id: string }) => run.id)).toContain(id);
    const audit = await api.prisma.auditEntry.findMany({ where: { action: 'POST /runs/:id/steps/:step/approve' }, orderBy: { id: 'asc' } });
    expect(audit.map((entry) => [entry.actorEmail, entry.outcome])).toEqual([
      ['ops@example.org', 'denied'],
      ['lead@example.org', 'success'],
    ]);
    expect((await runCli(['logout'], lead)).stdout).toContain('Signed out');
  });
});
