// What the agent learns about the machine it runs on: the hardware profile
// (OS, CPUs, memory, disks, interfaces, Docker and Swarm membership) and a
// health sample (load, free memory, disk use, uptime).
import Docker from 'dockerode';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { promisify } from 'node:util';
import type { NodeHealth } from './node-health.js';
import { hardwareProfileSchema, type HardwareProfile } from './node-profile.js';

const run = promisify(execFile);

/** Pseudo and in-memory file systems: not disks anyone provisions or fills. */
const IGNORED_FILESYSTEMS = new Set(['tmpfs', 'devtmpfs', 'squashfs', 'proc', 'sysfs', 'cgroup', 'cgroup2', 'overlay', 'nsfs', 'devpts', 'mqueue', 'autofs', 'fuse.lxcfs']);

interface DiskUse {
  mount: string;
  device: string;
  sizeBytes: number;
  usedBytes: number;
  availableBytes: number;
}

/** Local disks from `df` (POSIX format, sizes in bytes); an overlay root stays in, as it is the only disk a container sees. */
export async function readDisks(): Promise<DiskUse[]> {
  const { stdout } = await run('df', ['-PT', '-B1'], { timeout: 10_000 }).catch(() => ({ stdout: '' }));
  const disks: DiskUse[] = [];
  for (const line of stdout.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 7) continue;
    const [device, type, size, used, available] = fields;
    const mount = fields.slice(6).join(' ');
    if (IGNORED_FILESYSTEMS.has(type!) && !(type === 'overlay' && mount === '/')) continue;
    disks.push({ mount, device: device!, sizeBytes: Number(size), usedBytes: Number(used), availableBytes: Number(available) });
  }
  return disks;
}

/** NAME and VERSION_ID from /etc/os-release (or the kernel's own name when there is none). */
export function readOsRelease(file = '/etc/os-release'): { name: string; version: string } {
  if (!existsSync(file)) return { name: os.type(), version: os.release() };
  const fields = Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .map((line) => /^([A-Z_]+)=(.*)$/.exec(line.trim()))
      .filter((match): match is RegExpExecArray => match !== null)
      .map((match) => [match[1], match[2]!.replace(/^"(.*)"$/, '$1')]),
  ) as Record<string, string>;
  return { name: fields.NAME ?? os.type(), version: fields.VERSION_ID ?? fields.VERSION ?? '' };
}

function readInterfaces(): HardwareProfile['interfaces'] {
  return Object.entries(os.networkInterfaces()).flatMap(([name, entries]) => {
    const addresses = (entries ?? []).filter((entry) => !entry.internal).map((entry) => entry.cidr ?? entry.address);
    if (addresses.length === 0) return [];
    const mac = entries?.find((entry) => entry.mac && entry.mac !== '00:00:00:00:00:00')?.mac;
    return [{ name, ...(mac ? { mac } : {}), addresses }];
  });
}

/** Docker's version and Swarm membership from the local socket; null when there is no Docker there. */
export async function readDocker(socketPath: string): Promise<HardwareProfile['docker']> {
  if (!existsSync(socketPath)) return null;
  const docker = new Docker({ socketPath, timeout: 10_000 });
  try {
    const [version, info] = await Promise.all([docker.version(), docker.info() as Promise<{ Swarm?: { LocalNodeState?: string; NodeID?: string; ControlAvailable?: boolean; Cluster?: { ID?: string }; RemoteManagers?: Array<{ Addr?: string }> | null } }>]);
    const swarm = info.Swarm;
    return {
      version: version.Version,
      ...(swarm?.LocalNodeState
        ? {
            swarm: {
              state: swarm.LocalNodeState,
              ...(swarm.LocalNodeState === 'active' ? { role: swarm.ControlAvailable ? ('manager' as const) : ('worker' as const) } : {}),
              ...(swarm.NodeID ? { nodeId: swarm.NodeID } : {}),
              ...(swarm.Cluster?.ID ? { clusterId: swarm.Cluster.ID } : {}),
              managers: (swarm.RemoteManagers ?? []).flatMap((manager) => (manager.Addr ? [manager.Addr] : [])),
            },
          }
        : {}),
    };
  } catch {
    // A socket nobody answers on (or one this user may not use) is the same as no Docker for the profile.
    return null;
  }
}

export async function collectProfile(dockerSocket: string): Promise<HardwareProfile> {
  const cpus = os.cpus();
  const release = readOsRelease();
  const [disks, docker] = await Promise.all([readDisks(), readDocker(dockerSocket)]);
  return hardwareProfileSchema.parse({
    hostname: os.hostname(),
    os: { name: release.name, version: release.version, kernel: os.release(), arch: os.arch() },
    cpu: { model: cpus[0]?.model.trim() ?? 'unknown', cores: cpus.length },
    memoryBytes: os.totalmem(),
    disks: disks.map(({ availableBytes: _available, ...disk }) => disk),
    interfaces: readInterfaces(),
    docker,
    collectedAt: new Date().toISOString(),
  });
}

export async function collectHealth(): Promise<NodeHealth> {
  const disks = await readDisks();
  return {
    load: os.loadavg(),
    cpus: os.cpus().length,
    memoryFreeBytes: os.freemem(),
    memoryTotalBytes: os.totalmem(),
    disks: disks.map((disk) => ({
      mount: disk.mount,
      usedPercent: disk.sizeBytes > 0 ? Math.min(100, Math.round((disk.usedBytes / disk.sizeBytes) * 1000) / 10) : 0,
      freeBytes: disk.availableBytes,
    })),
    uptimeSeconds: Math.round(os.uptime()),
    collectedAt: new Date().toISOString(),
  };
}
