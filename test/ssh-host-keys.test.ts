// SSH host keys trusted on first use, against the real sshd of a Debian
// container (test/vps-target.ts): the first step that reaches the machine pins
// its key on the connection; once the machine presents another key (its host
// keys regenerated, as a man in the middle or a reinstall would present), an
// ssh step and an Ansible step are refused before anything runs, naming both
// fingerprints; an admin forgets the pin through the API (audited) and the
// next step pins the new key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionView } from '../api/services/connection-service.js';
import { startApiForTests } from './api-harness.js';
import { writeManifests } from './files.js';
import { startVpsTarget, type VpsTarget } from './vps-target.js';

const manifests = {
  'ssh-touch': `
name: ssh-touch
title: Touch a file over SSH
inputs: { type: object, properties: { file: { type: string } }, required: [file] }
steps:
  - id: touch
    action: ssh.command
    with: { connection: pinned-ssh, command: "touch \${{ inputs.file }} && hostname" }
`,
  'ansible-over-ssh': `
name: ansible-over-ssh
title: Ping the machine with Ansible
steps:
  - id: ping
    action: ansible.playbook
    with: { playbook: ping.yml, sshConnection: pinned-ssh }
`,
};

const ADMIN = { email: 'admin@example.org', password: 'host keys password 1' };
let target: VpsTarget;
let api: Awaited<ReturnType<typeof startApiForTests>>;
let connectionId: string;
let adminToken: string;

beforeAll(async () => {
  target = await startVpsTarget();
  api = await startApiForTests(writeManifests(manifests), [{ ...ADMIN, grants: [['dev', 'admin']] }]);
  const created = await api.services.connections.create({ environment: 'dev', name: 'pinned-ssh', type: 'ssh', config: { host: target.address, port: 22, user: 'root' }, secret: target.privateKey });
  connectionId = created.id;
  adminToken = await api.logIn(ADMIN.email, ADMIN.password);
}, 180_000);

afterAll(async () => {
  await api?.stop();
  await target?.remove();
});

async function run(runbook: string, inputs: Record<string, unknown> = {}) {
  const { id } = await api.services.runs.startRun({ runbook, inputs, environment: 'dev', startedBy: ADMIN.email });
  await api.temporal.workflow.getHandle(id).result().catch(() => undefined);
  const shown = await api.services.runs.showRun(id);
  const lines = await api.services.logStore.linesAfter(id, 0);
  return { ...shown, log: lines.map((line) => line.text) };
}

/** The connection as the API shows it to an admin. */
async function shownConnection(): Promise<ConnectionView> {
  const response = await api.app.inject({ method: 'GET', url: '/connections?environment=dev', headers: { authorization: `Bearer ${adminToken}` } });
  expect(response.statusCode).toBe(200);
  return (response.json() as ConnectionView[]).find((connection) => connection.name === 'pinned-ssh')!;
}

/** The fingerprint of the machine's own ED25519 host key, read inside it (not over SSH). */
async function machineFingerprint(): Promise<string> {
  return (await target.exec('ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub')).split(' ')[1]!;
}

describe('SSH host keys, trusted on first use', () => {
  let firstFingerprint: string;

  it('pins the key the first step meets (an Ansible step), and later steps connect with it', async () => {
    firstFingerprint = await machineFingerprint();
    expect((await shownConnection()).hostKeys).toEqual([]);

    const ansible = await run('ansible-over-ssh');
    expect(ansible.status, ansible.error ?? ansible.log.join('\n')).toBe('COMPLETED');
    expect(ansible.log).toContainEqual(expect.stringContaining(`pinned the SSH host key of ${target.address}:22 for connection pinned-ssh: ${firstFingerprint} (ssh-ed25519)`));
    expect((await shownConnection()).hostKeys).toEqual([
      { address: `${target.address}:22`, type: 'ssh-ed25519', fingerprint: firstFingerprint, pinnedAt: expect.any(String), pinnedBy: `run ${ansible.id} step ping` },
    ]);

    const ssh = await run('ssh-touch', { file: '/root/first' });
    expect(ssh.status, ssh.error ?? ssh.log.join('\n')).toBe('COMPLETED');
    expect(ssh.log.some((line) => line.includes('pinned the SSH host key'))).toBe(false);
    expect(await target.exec('test -e /root/first && echo ran')).toBe('ran');
  }, 180_000);

  it('refuses an ssh step and an Ansible step once the machine presents another key, naming both fingerprints, without retrying', async () => {
    // What a man in the middle (or a reinstalled machine) looks like from Jarvis: the same address, another host key.
    await target.exec('rm -f /etc/ssh/ssh_host_* && ssh-keygen -A -q && systemctl restart ssh');
    const newFingerprint = await machineFingerprint();
    expect(newFingerprint).not.toBe(firstFingerprint);

    const ssh = await run('ssh-touch', { file: '/root/after-change' });
    expect(ssh.status).toBe('FAILED');
    expect(ssh.error).toContain(`the SSH host key of ${target.address}:22 is not the one pinned for connection "pinned-ssh"`);
    expect(ssh.error).toContain(`expected ${firstFingerprint} (ssh-ed25519`);
    expect(ssh.error).toContain(`seen ${newFingerprint} (ssh-ed25519)`);
    expect(ssh.error).toContain(`PATCH /connections/${connectionId} {"hostKeys": null}`);
    expect(ssh.progress?.steps[0]?.attempts).toBe(1);
    expect(await target.exec('test -e /root/after-change && echo ran || echo not run')).toBe('not run');

    const ansible = await run('ansible-over-ssh');
    expect(ansible.status).toBe('FAILED');
    expect(ansible.error).toContain(`expected ${firstFingerprint} (ssh-ed25519`);
    expect(ansible.error).toContain(`seen ${newFingerprint} (ssh-ed25519)`);
    expect(ansible.progress?.steps[0]?.attempts).toBe(1);
    expect(ansible.log).toContainEqual(expect.stringContaining('Host key verification failed'));

    // The pin is unchanged: a refused key never replaces it.
    expect((await shownConnection()).hostKeys.map((key) => key.fingerprint)).toEqual([firstFingerprint]);
  }, 180_000);

  it('lets an admin forget the pin through the API (audited with the forgotten key), and the next step pins the new key', async () => {
    const newFingerprint = await machineFingerprint();
    const reset = await api.app.inject({ method: 'PATCH', url: `/connections/${connectionId}`, headers: { authorization: `Bearer ${adminToken}` }, payload: { hostKeys: null } });
    expect(reset.statusCode, reset.body).toBe(200);
    expect(reset.json()).toMatchObject({ name: 'pinned-ssh', hostKeys: [] });
    expect(reset.json()).not.toHaveProperty('forgotten');
    const [entry] = await api.prisma.auditEntry.findMany({ where: { targetType: 'connection', targetId: connectionId }, orderBy: { id: 'desc' }, take: 1 });
    expect(entry).toMatchObject({ action: 'PATCH /connections/:id', outcome: 'success', details: { hostKeys: 'forgotten', forgottenHostKeys: [`${target.address}:22 ${firstFingerprint}`] } });

    const ssh = await run('ssh-touch', { file: '/root/after-reset' });
    expect(ssh.status, ssh.error ?? ssh.log.join('\n')).toBe('COMPLETED');
    expect((await shownConnection()).hostKeys.map((key) => key.fingerprint)).toEqual([newFingerprint]);
    expect(await target.exec('test -e /root/after-reset && echo ran')).toBe('ran');
  }, 180_000);
});
