// provision-vps against a real machine: a Debian container with systemd, sshd
// and Docker in its own network namespace (test/vps-target.ts), reached over
// SSH at its own address. The hardening is checked by reading the target's
// sshd settings, users, firewall rules and services; a second run must change
// nothing; the node lands in the inventory with its hardware profile. A cloud
// server whose provisioning fails afterwards is destroyed by compensation.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../config/env.js';
import type { HardwareProfile } from '../infra/node-profile.js';
import { sshCommandArgs, withSshSession } from '../infra/ssh-target.js';
import { runProcess } from '../activities/shell/run-process.js';
import { DEFAULT_PROCESS_POLICY } from '../activities/shell/action-sandbox.js';
import { startApiForTests } from './api-harness.js';
import { startFakeProvider, type FakeProvider } from './fake-vps-providers.js';
import { writeManifests } from './files.js';
import { memoryHostKeyPins, startVpsTarget, type VpsTarget } from './vps-target.js';

const TOKEN = 'hcloud-token-provision-0001';
let target: VpsTarget;
let hetzner: FakeProvider;
let api: Awaited<ReturnType<typeof startApiForTests>>;

beforeAll(async () => {
  target = await startVpsTarget();
  // A cloud provider whose servers come up at an address where nothing answers SSH (loopback, port 1 below).
  hetzner = await startFakeProvider('hetzner', TOKEN, 1, '127.0.0.1');
  api = await startApiForTests(writeManifests({ 'provision-vps': readFileSync(path.join(PROJECT_ROOT, 'runbooks', 'provision-vps.yaml'), 'utf8') }), [
    { email: 'ops@example.org', password: 'provision password 1', grants: [['dev', 'operator']] },
  ]);
  const connections = api.services.connections;
  await connections.create({ environment: 'dev', name: 'edge-ssh', type: 'ssh', config: { host: target.address, port: 22, user: 'root' }, secret: target.privateKey });
  await connections.create({ environment: 'dev', name: 'nowhere-ssh', type: 'ssh', config: { port: 1, user: 'root' }, secret: target.privateKey });
  await connections.create({ environment: 'dev', name: 'hetzner', type: 'hetzner', config: { baseUrl: hetzner.baseUrl }, secret: TOKEN });
}, 180_000);

afterAll(async () => {
  await api?.stop();
  await hetzner?.close();
  await target?.remove();
});

async function provision(inputs: Record<string, unknown>) {
  const { id } = await api.services.runs.startRun({ runbook: 'provision-vps', inputs, environment: 'dev', startedBy: 'ops@example.org' });
  await api.temporal.workflow.getHandle(id).result().catch(() => undefined);
  return api.services.runs.showRun(id);
}

/** What a failed run says: its error and the last lines of its log. */
async function failureOf(run: Awaited<ReturnType<typeof provision>>): Promise<string> {
  const lines = await api.services.logStore.linesAfter(run.id, 0);
  return [run.error ?? '', ...lines.slice(-40).map((line) => `${line.stepId} ${line.text}`)].join('\n');
}

const adopt = { name: 'edge-1', sshConnection: 'edge-ssh', swarm: 'init', updatePackages: false, labels: { role: 'edge' } };

const testHostKeys = { pins: memoryHostKeyPins(), pinnedBy: 'the test' };

/** Whether `user` can log in to the target with the test key, from the test machine. */
async function canLogIn(user: string): Promise<boolean> {
  const login = { connection: { id: 'test', name: 'test' }, host: target.address, port: 22, user, privateKey: target.privateKey };
  return withSshSession(login, testHostKeys, DEFAULT_PROCESS_POLICY, async (session) => {
    await session.trustHostKey();
    const result = await runProcess({ command: 'ssh', args: sshCommandArgs(login, user, session, 'true'), timeoutMs: 20_000 });
    return result.exitCode === 0;
  });
}

/** A step's output, read back from the run's history. */
async function stepOutput(run: Awaited<ReturnType<typeof provision>>, stepId: string): Promise<Record<string, unknown>> {
  const entry = (await api.services.runs.timeline(run.id)).find((candidate) => candidate.stepId === stepId && candidate.kind === 'action');
  return JSON.parse(entry?.output ?? 'null') as Record<string, unknown>;
}

describe('provision-vps with the ssh provider', () => {
  it('hardens the host, installs Docker with a Swarm, records the node, and changes nothing the second time', async () => {
    const first = await provision(adopt);
    expect(first.status, await failureOf(first)).toBe('COMPLETED');
    expect(first.progress?.steps.map((step) => [step.id, step.status])).toEqual([
      ['approve', 'skipped'],
      ['create-server', 'skipped'],
      ['wait-server', 'skipped'],
      ['wait-ssh', 'succeeded'],
      ['harden', 'succeeded'],
      ['docker', 'succeeded'],
      ['profile', 'succeeded'],
      ['register', 'succeeded'],
      ['dns', 'skipped'],
      ['health', 'succeeded'],
    ]);
    expect(await stepOutput(first, 'wait-ssh')).toMatchObject({ user: 'root', host: target.address });
    // The first step that reached the host pinned its key on the connection; every later one checked it.
    const hostKey = (await target.exec('ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub')).split(' ')[1];
    const edge = (await api.services.connections.list(['dev'])).find((connection) => connection.name === 'edge-ssh');
    expect(edge?.hostKeys).toEqual([expect.objectContaining({ address: `${target.address}:22`, type: 'ssh-ed25519', fingerprint: hostKey })]);
    expect((await stepOutput(first, 'harden')).changed).toBeGreaterThan(0);

    // SSH: keys only, no root; the deploy user logs in with the provisioning key and may sudo.
    const sshd = await target.exec('sshd -T');
    expect(sshd).toMatch(/^permitrootlogin no$/m);
    expect(sshd).toMatch(/^passwordauthentication no$/m);
    expect(sshd).toMatch(/^kbdinteractiveauthentication no$/m);
    expect(await target.exec('id -nG deploy')).toMatch(/\bsudo\b/);
    expect(await target.exec('cat /home/deploy/.ssh/authorized_keys')).toContain('ssh-ed25519 ');
    expect(await canLogIn('root')).toBe(false);
    expect(await canLogIn('deploy')).toBe(true);
    // Firewall: input dropped except SSH and HTTP(S), inside the target's own namespace.
    const rules = await target.exec('nft list table inet jarvis_filter');
    expect(rules).toMatch(/policy drop/);
    expect(rules).toMatch(/tcp dport 22 accept/);
    expect(rules).toMatch(/tcp dport \{ 80, 443 \} accept/);
    // Services.
    expect(await target.exec('systemctl is-active fail2ban docker ssh')).toBe('active\nactive\nactive');
    expect(await target.exec('fail2ban-client status sshd')).toContain('Status for the jail: sshd');
    expect(await target.exec('systemctl is-enabled unattended-upgrades nftables')).toBe('enabled\nenabled');
    expect(await target.exec('cat /etc/apt/apt.conf.d/20auto-upgrades')).toContain('APT::Periodic::Unattended-Upgrade "1";');
    expect(await target.exec("docker info --format '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}'")).toBe('active true');

    // The inventory holds the node with its hardware profile.
    const client = new pg.Client({ connectionString: api.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ name: string; address: string; status: string; source: string; labels: Record<string, string>; profile: HardwareProfile; ssh_connection: string; ssh_user: string }>(
        "SELECT name, address, status, source, labels, profile, ssh_connection, ssh_user FROM nodes WHERE name = 'edge-1'",
      );
      expect(rows).toHaveLength(1);
      const node = rows[0]!;
      // Fleet steps reach it as provisioning left it: the same connection, the deploy user (root logins are off now).
      expect(node).toMatchObject({ address: target.address, status: 'online', source: 'ssh', labels: { role: 'edge' }, ssh_connection: 'edge-ssh', ssh_user: 'deploy' });
      expect(node.profile.hostname).toBe(await target.exec('hostname'));
      expect(node.profile.os).toMatchObject({ name: expect.stringContaining('Debian'), version: '12' });
      expect(node.profile.cpu.cores).toBeGreaterThan(0);
      expect(node.profile.memoryBytes).toBeGreaterThan(0);
      expect(node.profile.interfaces).toContainEqual(expect.objectContaining({ name: 'eth0', addresses: [`${target.address}/24`] }));
      expect(node.profile.docker).toMatchObject({ version: expect.stringMatching(/^\d+\./), swarm: { state: 'active', role: 'manager' } });
    } finally {
      await client.end();
    }

    // Second run: reaches the host as the deploy user (root is refused now) and Ansible changes nothing.
    const second = await provision(adopt);
    expect(second.status, await failureOf(second)).toBe('COMPLETED');
    expect(await stepOutput(second, 'wait-ssh')).toMatchObject({ user: 'deploy' });
    expect(await stepOutput(second, 'harden')).toMatchObject({ changed: 0, failedHosts: [] });
    expect(await stepOutput(second, 'docker')).toMatchObject({ changed: 0, failedHosts: [] });
  }, 600_000);

  it('keeps the key out of the run: no step output or log line holds it', async () => {
    const runs = await api.services.runs.listRuns({ runbook: 'provision-vps' });
    expect(runs.length).toBeGreaterThan(0);
    const keyBody = target.privateKey.split('\n')[1]!;
    for (const { id } of runs) {
      expect(JSON.stringify(await api.services.runs.showRun(id))).not.toContain(keyBody);
      expect(JSON.stringify(await api.services.runs.timeline(id))).not.toContain(keyBody);
      const lines = await api.services.logStore.linesAfter(id, 0);
      expect(lines.length).toBeGreaterThan(0);
      expect(JSON.stringify(lines)).not.toContain(keyBody);
    }
  });
});

describe('provision-vps with a cloud provider', () => {
  it('destroys the server it created when a later step fails', async () => {
    const failed = await provision({ name: 'web-9', provider: 'hetzner', providerConnection: 'hetzner', size: 'cx22', region: 'fsn1', sshConnection: 'nowhere-ssh', sshTimeout: '2s' });
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toMatch(/did not accept SSH/);
    expect([...hetzner.servers.values()]).toEqual([expect.objectContaining({ name: 'web-9', deleted: true })]);
    expect(failed.progress?.compensations).toEqual([expect.objectContaining({ forStep: 'create-server', action: 'vps.server.destroy', status: 'succeeded' })]);
  }, 120_000);
});
