// Fleet runs over SSH, against three real Debian hosts (debootstrap images with
// systemd and sshd, each in its own network namespace) that have no agent:
// the nodes are added with an ssh connection, and the fleet steps reach them
// from the main workers. The built-in patch-fleet runbook, started by
// `jarvis nodes update`, upgrades security updates only from real apt
// archives, stops on a failed upgrade, puts that host's packages back and
// leaves the last host untouched; once fixed, the whole fleet is patched and
// each host that asks for it is rebooted (its container restarts, as a
// machine boots) and waited for. A command's arguments reach the hosts as
// data, never as shell syntax.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../config/env.js';
import { startApiForTests } from './api-harness.js';
import { buildAptRepository } from './apt-repository.js';
import { scratchDir, writeManifests } from './files.js';
import { runCli } from './processes.js';
import { startVpsTarget, type VpsTarget } from './vps-target.js';

const execFileAsync = promisify(execFile);
const PASSWORD = 'fleet ssh password 1';
const NAMES = ['ssh-1', 'ssh-2', 'ssh-3'];

let api: Awaited<ReturnType<typeof startApiForTests>>;
let hosts: VpsTarget[] = [];
const tokens: Record<string, string> = {};
const cli = { admin: { JARVIS_DATA_DIR: scratchDir() } };

const call = (user: string, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) =>
  api.app.inject({ method, url, headers: { authorization: `Bearer ${tokens[user]}` }, ...(payload ? { payload } : {}) });

/** The version of a test package installed on a host (dpkg's own answer). */
const installedVersion = (host: VpsTarget, name: string) => host.exec(`dpkg-query -W -f '\${Version}' ${name}`);

interface Target {
  node: string;
  status: string;
  batch: number;
  error?: string;
  outputSummary?: string;
  compensation?: { status: string; error?: string };
}

async function targetsOf(runId: string): Promise<Target[]> {
  return (await call('root', 'GET', `/runs/${runId}/targets`)).json().targets as Target[];
}

async function latestRun(runbook: string): Promise<string> {
  const runs = (await call('root', 'GET', `/runs?runbook=${runbook}`)).json() as Array<{ id: string }>;
  return runs[0]!.id;
}

beforeAll(async () => {
  hosts = await Promise.all(NAMES.map(() => startVpsTarget({ rebootable: true })));
  // One key for the fleet: the connection's secret, accepted by every host.
  const keyFile = path.join(scratchDir(), 'fleet_ed25519');
  await execFileAsync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'jarvis-fleet', '-f', keyFile]);
  const publicKey = readFileSync(`${keyFile}.pub`, 'utf8').trim();

  // The hosts' only apt sources: a main archive (the versions installed, and a non-security update) and a security archive.
  const repository = await buildAptRepository(scratchDir(), [
    {
      folder: 'main',
      label: 'Debian',
      suite: 'bookworm',
      packages: [
        { name: 'jarvis-demo-tls', version: '1.0' },
        { name: 'jarvis-demo-tools', version: '1.0' },
        { name: 'jarvis-demo-tools', version: '2.0' },
      ],
    },
    {
      folder: 'security',
      label: 'Debian-Security',
      suite: 'bookworm-security',
      packages: [
        {
          name: 'jarvis-demo-tls',
          version: '1.1',
          // Like a kernel or libc update, it asks for a reboot; on a host marked broken its configuration fails.
          postinst:
            'if [ -e /etc/jarvis-demo-broken ]; then echo "jarvis-demo-tls: configuration failed" >&2; exit 1; fi\ntouch /var/run/reboot-required\necho jarvis-demo-tls >> /var/run/reboot-required.pkgs',
        },
      ],
    },
  ]);
  const { stdout: archive } = await execFileAsync('tar', ['-C', repository, '-czf', '-', 'main', 'security'], { encoding: 'buffer', maxBuffer: 2 ** 24 });
  await Promise.all(
    hosts.map(async (host) => {
      await host.exec(`echo '${publicKey}' >> /root/.ssh/authorized_keys`);
      await host.exec(`mkdir -p /srv/jarvis-apt && echo '${archive.toString('base64')}' | base64 -d | tar -xz -C /srv/jarvis-apt`);
      await host.exec(
        [
          'rm -f /etc/apt/sources.list /etc/apt/sources.list.d/*',
          "printf 'deb [trusted=yes] file:/srv/jarvis-apt/main ./\\ndeb [trusted=yes] file:/srv/jarvis-apt/security ./\\n' > /etc/apt/sources.list.d/jarvis-test.list",
          'dpkg -i /srv/jarvis-apt/main/jarvis-demo-tls_1.0_all.deb /srv/jarvis-apt/main/jarvis-demo-tools_1.0_all.deb',
          'rm -f /var/run/reboot-required /var/run/reboot-required.pkgs',
        ].join(' && '),
      );
    }),
  );
  await hosts[1]!.exec('touch /etc/jarvis-demo-broken');

  api = await startApiForTests(
    writeManifests({
      'patch-fleet': readFileSync(path.join(PROJECT_ROOT, 'runbooks', 'patch-fleet.yaml'), 'utf8'),
      'fleet-shell': readFileSync(path.join(PROJECT_ROOT, 'runbooks', 'fleet-shell.yaml'), 'utf8'),
    }),
    [
      { email: 'root@example.org', password: PASSWORD, grants: [['dev', 'admin']] },
      { email: 'ada@example.org', password: PASSWORD, grants: [['dev', 'operator']] },
      { email: 'pat@example.org', password: PASSWORD, grants: [['prod', 'admin']] },
    ],
  );
  await api.app.listen({ host: '127.0.0.1', port: 0 });
  for (const user of ['root', 'ada', 'pat']) tokens[user] = await api.logIn(`${user}@example.org`, PASSWORD);
  const connections = api.services.connections;
  await connections.create({ environment: 'dev', name: 'fleet-ssh', type: 'ssh', config: { port: 22, user: 'root' }, secret: readFileSync(keyFile, 'utf8') });
  await connections.create({ environment: 'prod', name: 'prod-ssh', type: 'ssh', config: { port: 22, user: 'root' }, secret: readFileSync(keyFile, 'utf8') });
  await connections.create({ environment: 'dev', name: 'a-webhook', type: 'webhook', config: { url: 'https://example.org/hook' } });
  const apiUrl = `http://127.0.0.1:${(api.app.server.address() as { port: number }).port}`;
  expect((await runCli(['login', '--api', apiUrl, '--email', 'root@example.org'], cli.admin, `${PASSWORD}\n`)).code).toBe(0);
}, 300_000);

afterAll(async () => {
  await api?.stop();
  await Promise.all(hosts.map((host) => host.remove()));
});

describe('nodes reached over SSH', { timeout: 300_000 }, () => {
  it('are added by an admin of their environment with an ssh connection of that environment, and refused otherwise', async () => {
    const add = (user: string, body: object) => call(user, 'POST', '/nodes', body);
    const base = { environment: 'dev', name: 'ssh-x', address: '10.0.0.9', ssh: { connection: 'fleet-ssh' } };
    expect((await add('ada', base)).statusCode).toBe(403);
    const otherEnvironment = await add('root', { ...base, ssh: { connection: 'prod-ssh' } });
    expect(otherEnvironment.statusCode).toBe(400);
    expect(otherEnvironment.json().detail).toContain('no connection "prod-ssh" in dev');
    const notSsh = await add('root', { ...base, ssh: { connection: 'a-webhook' } });
    expect(notSsh.statusCode).toBe(400);
    expect(notSsh.json().detail).toContain('not ssh');
    expect((await add('root', { ...base, address: '-oProxyCommand=touch /tmp/x' })).statusCode).toBe(400);

    for (const [index, name] of NAMES.entries()) {
      const added = await runCli(['nodes', 'add', name, '-e', 'dev', '--address', hosts[index]!.address, '--connection', 'fleet-ssh', '--label', 'site=c', '-o', 'json'], cli.admin);
      expect(added.code, added.stderr).toBe(0);
      expect(JSON.parse(added.stdout)).toMatchObject({ name, source: 'ssh', address: hosts[index]!.address, ssh: { connection: 'fleet-ssh', user: '' }, taskQueue: null });
    }
  });

  it('run a fleet command over SSH, its arguments reaching each host as data', async () => {
    const hostile = '$(touch /tmp/pwned); `id`';
    const ran = await runCli(['nodes', 'run', '--selector', 'site=c', '--batch', '2', '--watch', '--', 'echo', hostile], cli.admin);
    expect(ran.code, ran.stderr).toBe(0);
    const targets = await targetsOf(await latestRun('fleet-shell'));
    expect(targets.map((target) => [target.node, target.status, target.batch])).toEqual([
      ['ssh-1', 'succeeded', 1],
      ['ssh-2', 'succeeded', 1],
      ['ssh-3', 'succeeded', 2],
    ]);
    for (const target of targets) expect(target.outputSummary).toContain(JSON.stringify(hostile).slice(1, -1));
    for (const host of hosts) expect(await host.exec('test -e /tmp/pwned && echo pwned || echo clean')).toBe('clean');
    // Each host's key was pinned on first use, per address.
    const connection = (await api.services.connections.list(['dev'])).find((entry) => entry.name === 'fleet-ssh');
    expect(connection?.hostKeys.map((key) => key.address).sort()).toEqual(hosts.map((host) => `${host.address}:22`).sort());
  });

  it('patch security updates only with `jarvis nodes update`: a failed upgrade stops the rollout, is rolled back, and the rest is skipped', async () => {
    const updated = await runCli(
      ['nodes', 'update', '--selector', 'site=c', '--security-only', '--batch', '1', '--max-failures', '0', '--rollback-on-failure', '--reboot', 'never', '--watch'],
      cli.admin,
    );
    expect(updated.code).not.toBe(0);
    const runId = await latestRun('patch-fleet');
    const targets = await targetsOf(runId);
    expect(targets.map((target) => [target.node, target.status, target.batch])).toEqual([
      ['ssh-1', 'succeeded', 1],
      ['ssh-2', 'failed', 2],
      ['ssh-3', 'skipped', 3],
    ]);
    // ssh-1: the security update only, reported with the reboot it asks for.
    const report = JSON.parse(targets[0]!.outputSummary!.replace(/…$/, '')) as { changes: unknown[]; rebootRequired: boolean; skipped: number };
    expect(report.changes).toEqual([{ package: 'jarvis-demo-tls', from: '1.0', to: '1.1' }]);
    expect(report.rebootRequired).toBe(true);
    expect(report.skipped).toBe(1);
    expect(await installedVersion(hosts[0]!, 'jarvis-demo-tls')).toBe('1.1');
    expect(await installedVersion(hosts[0]!, 'jarvis-demo-tools')).toBe('1.0');
    // ssh-2: its upgrade failed in the package's configuration, and the compensation put 1.0 back.
    expect(targets[1]!.error).toContain('jarvis-demo-tls: configuration failed');
    expect(targets[1]!.compensation).toEqual({ status: 'succeeded' });
    expect(await installedVersion(hosts[1]!, 'jarvis-demo-tls')).toBe('1.0');
    expect(await hosts[1]!.exec("dpkg-query -W -f '${db:Status-Abbrev}' jarvis-demo-tls")).toBe('ii');
    // ssh-3: never touched.
    expect(await installedVersion(hosts[2]!, 'jarvis-demo-tls')).toBe('1.0');
    expect(await hosts[2]!.exec('cat /var/log/apt/history.log 2>/dev/null | grep -c jarvis-run || true')).toBe('0');
    const run = (await call('root', 'GET', `/runs/${runId}`)).json();
    expect(run.status).toBe('FAILED');
  });

  it('patch the whole fleet once the broken host is fixed, and reboot, a batch at a time, each host that asks for it, until it is back', async () => {
    await hosts[1]!.exec('rm /etc/jarvis-demo-broken');
    const bootsBefore = await Promise.all(hosts.map((host) => host.exec('cat /proc/1/stat | cut -d" " -f22')));
    const updated = await runCli(['nodes', 'update', '--selector', 'site=c', '--batch', '1', '--max-failures', '0', '--watch'], cli.admin);
    expect(updated.code, updated.stdout + updated.stderr).toBe(0);
    const runId = await latestRun('patch-fleet');
    const page = (await call('root', 'GET', `/runs/${runId}/targets?step=reboot`)).json().targets as Target[];
    expect(page.map((target) => [target.node, target.status, target.batch])).toEqual([
      ['ssh-1', 'succeeded', 1],
      ['ssh-2', 'succeeded', 2],
      ['ssh-3', 'succeeded', 3],
    ]);
    for (const target of page) expect(JSON.parse(target.outputSummary!)).toMatchObject({ rebooted: true });
    // Each machine came back with another boot, once, and answers with the security update in place.
    expect(hosts.map((host) => host.reboots())).toEqual([1, 1, 1]);
    const bootsAfter = await Promise.all(hosts.map((host) => host.exec('cat /proc/1/stat | cut -d" " -f22')));
    bootsAfter.forEach((boot, index) => expect(boot).not.toBe(bootsBefore[index]));
    for (const host of hosts) expect(await installedVersion(host, 'jarvis-demo-tls')).toBe('1.1');
    for (const host of hosts) expect(await host.exec('test -e /var/run/reboot-required && echo wanted || echo done')).toBe('done');
  });
});
