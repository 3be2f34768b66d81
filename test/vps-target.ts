// A throwaway "VPS" for the provisioning tests: the Debian image made by
// .ci/make-vps-image.sh run as a container with systemd, sshd and Docker, in
// its own network namespace reached through a veth pair on a private /24.
// Everything the hardening changes (users, sshd, nftables rules) happens
// inside that container: the test machine's own SSH, firewall and users are
// never touched. Needs root (veth pairs), as .ci/run has.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadEnv } from '../config/env.js';
import type { HostKeyPins, PinnedHostKey } from '../security/connection-resolver.js';
import { scratchDir } from './files.js';

const execFileAsync = promisify(execFile);
export const VPS_IMAGE = 'jarvis-test/debian-vps:2';

async function run(command: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, args, { maxBuffer: 16 * 2 ** 20 });
    return stdout.trim();
  } catch (error) {
    const failure = error as { stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${failure.stderr || failure.message}`);
  }
}

export interface VpsTarget {
  container: string;
  address: string;
  /** The private key root logs in with (what an `ssh` connection's secret holds). */
  privateKey: string;
  /** Runs a command inside the target (as root, through the container engine: not over SSH). */
  exec(command: string): Promise<string>;
  /** How many times the machine rebooted (its container restarted, its network plugged again). */
  reboots(): number;
  remove(): Promise<void>;
}

// 10.213.X.0/24, X taken in turn from a random start, so the targets of one process never meet and parallel files rarely do.
let nextSubnet = Math.floor(Math.random() * 200);

export async function startVpsTarget(options: { rebootable?: boolean } = {}): Promise<VpsTarget> {
  const socket = loadEnv().testDockerSocket;
  const docker = (...args: string[]) => run('docker', ['-H', `unix://${socket}`, ...args]);
  const suffix = Math.random().toString(36).slice(2, 7);
  const subnet = `10.213.${16 + (nextSubnet++ % 200)}`;
  const hostEnd = `vh${suffix}`;
  const container = `jarvis-vps-${suffix}`;
  await docker(
    'run',
    '-d',
    '--name',
    container,
    '--hostname',
    `vps-${suffix}`,
    '--network',
    'none',
    '--cap-add',
    'NET_ADMIN',
    // A rebootable machine: `systemctl reboot` ends its systemd and the engine starts it again, as a machine boots.
    ...(options.rebootable ? ['--restart', 'always'] : []),
    '--tmpfs',
    '/run',
    '--tmpfs',
    '/run/lock',
    '-v',
    '/sys/fs/cgroup:/sys/fs/cgroup:ro',
    VPS_IMAGE,
    '/lib/systemd/systemd',
  );
  const exec = (command: string) => docker('exec', container, 'sh', '-c', command);
  let watching: NodeJS.Timeout | undefined;
  let reboots = 0;
  const remove = async () => {
    clearInterval(watching);
    await docker('rm', '-f', container).catch(() => undefined);
    await run('ip', ['link', 'del', hostEnd]).catch(() => undefined);
  };
  /** A veth pair into the container's network namespace: its address and the host's on the private /24. */
  const plug = async (pid: string) => {
    await run('ip', ['link', 'del', hostEnd]).catch(() => undefined);
    await run('ip', ['link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', `vc${suffix}`]);
    await run('ip', ['link', 'set', `vc${suffix}`, 'netns', pid]);
    await run('ip', ['addr', 'add', `${subnet}.1/24`, 'dev', hostEnd]);
    await run('ip', ['link', 'set', hostEnd, 'up']);
    const inside = (...args: string[]) => run('nsenter', ['-t', pid, '-n', 'ip', ...args]);
    await inside('link', 'set', `vc${suffix}`, 'name', 'eth0');
    await inside('addr', 'add', `${subnet}.2/24`, 'dev', 'eth0');
    await inside('link', 'set', 'eth0', 'up');
    await inside('link', 'set', 'lo', 'up');
  };
  try {
    let pid = await docker('inspect', '--format', '{{.State.Pid}}', container);
    await plug(pid);
    if (options.rebootable) {
      // A restarted container has a new network namespace: plug it in again, as a rebooted machine's network comes back.
      let plugging = false;
      watching = setInterval(() => {
        if (plugging) return;
        plugging = true;
        docker('inspect', '--format', '{{.State.Pid}}', container)
          .then(async (now) => {
            if (now === pid || now === '0') return;
            await plug(now);
            pid = now;
            reboots += 1;
          })
          .catch(() => undefined)
          .finally(() => {
            plugging = false;
          });
      }, 500);
    }

    const keyFile = path.join(scratchDir(), 'id_ed25519');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'jarvis-test', '-f', keyFile]);
    const publicKey = (await readFile(`${keyFile}.pub`, 'utf8')).trim();
    await exec(`mkdir -p /root/.ssh && chmod 700 /root/.ssh && echo '${publicKey}' > /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys`);
    // systemd brings sshd up on its own; wait until it listens.
    for (let attempt = 0; ; attempt += 1) {
      const state = await exec('systemctl is-active ssh || true');
      if (state === 'active') break;
      if (attempt > 60) throw new Error(`sshd did not start in ${container}: ${state}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    return { container, address: `${subnet}.2`, privateKey: await readFile(keyFile, 'utf8'), exec, reboots: () => reboots, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}

/** Host key pins held in memory, for the test's own logins to a target (trust on first use, like a connection's). */
export function memoryHostKeyPins(): HostKeyPins {
  const pins = new Map<string, PinnedHostKey>();
  return {
    pinned: async (address) => pins.get(address),
    pin: async (address, key, pinnedBy) => {
      if (!pins.has(address)) pins.set(address, { address, ...key, pinnedAt: new Date().toISOString(), pinnedBy });
      return pins.get(address)!;
    },
  };
}
