import { describe, expect, it } from 'vitest';
import { remoteCommandLine } from './node-commands.js';
import { aptHistoryChanges, packageChanges, packageFamily, parseAptSimulation, parseVersions } from './package-managers.js';

describe('package manager output', () => {
  it('tells the Debian family from the RHEL family by /etc/os-release, and refuses others', () => {
    expect(packageFamily('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n')).toBe('debian');
    expect(packageFamily('NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\n')).toBe('debian');
    expect(packageFamily('NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\n')).toBe('rhel');
    expect(packageFamily('NAME="AlmaLinux"\nID="almalinux"\nID_LIKE="rhel centos fedora"\n')).toBe('rhel');
    expect(packageFamily('NAME="Alpine Linux"\nID=alpine\n')).toBeNull();
  });

  it('reads the upgrades apt plans and which come from a security archive, as Debian and Ubuntu name them', () => {
    const simulation = [
      'Reading package lists...',
      'The following packages will be upgraded:',
      '   libssl3 openssl tzdata',
      'Inst libssl3 [3.0.11-1~deb12u1] (3.0.15-1~deb12u1 Debian-Security:12/stable-security [amd64])',
      'Inst tzdata [2024a-0+deb12u1] (2025b-0+deb12u1 Debian:12.11/stable [all])',
      'Inst linux-image-6.1.0-30-amd64 (6.1.124-1 Debian-Security:12/stable-security [amd64])',
      'Inst curl [7.81.0-1ubuntu1.15] (7.81.0-1ubuntu1.16 Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64])',
      'Conf libssl3 (3.0.15-1~deb12u1 Debian-Security:12/stable-security [amd64])',
      'Inst $(reboot) [1] (2 Debian-Security:12/stable-security [all])',
    ].join('\n');
    expect(parseAptSimulation(simulation)).toEqual([
      { package: 'libssl3', from: '3.0.11-1~deb12u1', to: '3.0.15-1~deb12u1', origin: 'Debian-Security:12/stable-security', security: true },
      { package: 'tzdata', from: '2024a-0+deb12u1', to: '2025b-0+deb12u1', origin: 'Debian:12.11/stable', security: false },
      { package: 'linux-image-6.1.0-30-amd64', from: null, to: '6.1.124-1', origin: 'Debian-Security:12/stable-security', security: true },
      { package: 'curl', from: '7.81.0-1ubuntu1.15', to: '7.81.0-1ubuntu1.16', origin: 'Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security', security: true },
    ]);
  });

  it('lists what changed between two listings, and what a tagged apt run changed from its history', () => {
    const before = parseVersions('libssl3:amd64\t3.0.11\nopenssl\t3.0.11\nold-tool\t1\n');
    const after = parseVersions('libssl3:amd64\t3.0.15\nopenssl\t3.0.11\nnew-dep\t2\n');
    expect(packageChanges(before, after)).toEqual([
      { package: 'libssl3:amd64', from: '3.0.11', to: '3.0.15' },
      { package: 'new-dep', from: null, to: '2' },
      { package: 'old-tool', from: '1', to: null },
    ]);
    const history = [
      'Start-Date: 2026-12-01  10:00:00',
      'Commandline: apt-get -o Jarvis::Run=jarvis-run=run-a -y install --only-upgrade libssl3',
      'Upgrade: libssl3:amd64 (3.0.9, 3.0.11)',
      'End-Date: 2026-12-01  10:00:05',
      '',
      'Start-Date: 2026-12-01  11:00:00',
      'Commandline: apt-get -o Jarvis::Run=jarvis-run=run-b -y install --only-upgrade libssl3',
      'Install: new-dep:amd64 (2, automatic)',
      'Upgrade: libssl3:amd64 (3.0.11, 3.0.15), openssl:amd64 (3.0.11, 3.0.15)',
      'Error: Sub-process /usr/bin/dpkg returned an error code (1)',
      'End-Date: 2026-12-01  11:00:05',
    ].join('\n');
    expect(aptHistoryChanges(history, 'Jarvis::Run=jarvis-run=run-b')).toEqual([
      { package: 'libssl3', from: '3.0.11', to: '3.0.15' },
      { package: 'new-dep', from: null, to: '2' },
      { package: 'openssl', from: '3.0.11', to: '3.0.15' },
    ]);
    // A retried upgrade of one run: from the version before its first attempt to the one after its last.
    const retried = `${history}\n\nStart-Date: 2026-12-01  11:05:00\nCommandline: apt-get -o Jarvis::Run=jarvis-run=run-b -y install --only-upgrade libssl3\nUpgrade: libssl3:amd64 (3.0.15, 3.0.16)\nEnd-Date: 2026-12-01  11:05:02`;
    expect(aptHistoryChanges(retried, 'Jarvis::Run=jarvis-run=run-b')[0]).toEqual({ package: 'libssl3', from: '3.0.11', to: '3.0.16' });
    expect(aptHistoryChanges(history, 'Jarvis::Run=jarvis-run=run-c')).toEqual([]);
  });

  it('quotes every word of a command sent over SSH, so values reach the node as data', () => {
    const line = remoteCommandLine({ command: 'echo', args: ["it's $(id)", '`reboot`'], env: { GREETING: 'a b;c' }, asRoot: true }, 'deploy', { name: 'edge-1', environment: 'dev' });
    expect(line).toBe(`'sudo' '-n' 'env' '--' 'GREETING=a b;c' 'JARVIS_NODE_NAME=edge-1' 'JARVIS_NODE_ENVIRONMENT=dev' 'echo' 'it'\\''s $(id)' '\`reboot\`'`);
    expect(remoteCommandLine({ command: 'true', asRoot: true }, 'root', { name: 'n', environment: 'dev' })).not.toContain('sudo');
    expect(() => remoteCommandLine({ command: 'true', env: { '-i': 'x' } }, 'root', { name: 'n', environment: 'dev' })).toThrow(/not an environment variable name/);
  });
});
