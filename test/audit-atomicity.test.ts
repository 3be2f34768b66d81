// Nothing changes unaudited: when the audit log cannot be written, a
// state-changing request is refused before it acts, or (when the entry was
// opened but cannot be completed) answers 500 and stays audited as pending.
// The audit log of this suite's own throwaway database is made to fail by a
// trigger, which binds the database owner as well.
import { WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { idempotencyToken } from '../runs/run-ids.js';
import { startApiForTests } from './api-harness.js';
import { writeManifests } from './harness.js';

const PASSWORD = 'correct horse battery staple';
const noop = `
name: noop
title: Does nothing
environments: [prod]
steps:
  - id: say
    action: core.noop
    with: { message: hi }
`;

let api: Awaited<ReturnType<typeof startApiForTests>>;
let admin: Record<string, string>;

beforeAll(async () => {
  api = await startApiForTests(writeManifests({ noop }), [{ email: 'erin@example.org', password: PASSWORD, grants: [['prod', 'admin']] }]);
  admin = { authorization: `Bearer ${await api.logIn('erin@example.org', PASSWORD)}` };
  await api.prisma.$executeRawUnsafe(`CREATE FUNCTION refuse_audit_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'the audit log refuses writes (test)'; END $$`);
}, 120_000);

afterEach(async () => {
  await api.prisma.$executeRawUnsafe('DROP TRIGGER IF EXISTS refuse_audit_write ON audit_log');
});

afterAll(async () => api?.stop());

function refuseAuditWrites(on: 'INSERT' | 'UPDATE') {
  return api.prisma.$executeRawUnsafe(`CREATE TRIGGER refuse_audit_write BEFORE ${on} ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_audit_write()`);
}

const createEnvironment = (name: string) => api.app.inject({ method: 'POST', url: '/environments', headers: admin, payload: { name } });
const REFERENCE = /reference [0-9a-f-]{36}$/;

describe('a state-changing request whose audit entry cannot be written', () => {
  it('is refused with a 500 and a reference before it changes anything', async () => {
    await refuseAuditWrites('INSERT');
    const answer = await createEnvironment('staging');
    expect(answer.statusCode).toBe(500);
    expect(answer.headers['content-type']).toContain('application/problem+json');
    expect(answer.json().detail).toMatch(REFERENCE);
    expect(await api.prisma.environment.findUnique({ where: { name: 'staging' } })).toBeNull();
  });

  it('is refused before a run starts', async () => {
    await refuseAuditWrites('INSERT');
    const answer = await api.app.inject({ method: 'POST', url: '/runbooks/noop/execute', headers: { ...admin, 'idempotency-key': 'audit-down' }, payload: { environment: 'prod' } });
    expect(answer.statusCode).toBe(500);
    // The key names the run the request would have started (runs/run-ids.ts): Temporal has none.
    const erin = await api.prisma.user.findUniqueOrThrow({ where: { email: 'erin@example.org' } });
    await expect(api.temporal.workflow.getHandle(`noop@prod.${idempotencyToken(erin.id, 'audit-down')}`).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  it('answers a 500 with a reference when its entry cannot be completed, and the change it made stays audited', async () => {
    await refuseAuditWrites('UPDATE');
    const answer = await createEnvironment('qa');
    expect(answer.statusCode).toBe(500);
    expect(answer.json().detail).toMatch(REFERENCE);
    expect(await api.prisma.environment.findUnique({ where: { name: 'qa' } })).not.toBeNull();
    const entries = await api.prisma.auditEntry.findMany({ where: { action: 'POST /environments', actorEmail: 'erin@example.org' } });
    expect(entries.map((entry) => entry.outcome)).toEqual(['pending']);
  });

  it('leaves one complete entry when the audit log works', async () => {
    const answer = await createEnvironment('perf');
    expect(answer.statusCode).toBe(201);
    const entries = await api.prisma.auditEntry.findMany({ where: { action: 'POST /environments', targetId: 'perf' } });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ outcome: 'success', targetType: 'environment', actorEmail: 'erin@example.org', details: { status: 201 } });
  });

  it('still answers reads', async () => {
    await refuseAuditWrites('INSERT');
    expect((await api.app.inject({ method: 'GET', url: '/environments', headers: admin })).statusCode).toBe(200);
  });
});
