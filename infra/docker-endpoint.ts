// A Docker engine reached through a connection of type `docker`: a local
// socket (`config.socketPath`) or TCP (`config.host`, `config.port`, and for
// TLS `config.tls: true` with the secret holding `{"ca", "cert", "key"}` PEMs).
import Docker from 'dockerode';
import type { ResolvedConnection } from '../security/connection-resolver.js';

/** An engine that does not answer within this time is reported unreachable (long operations set their own). */
const DOCKER_TIMEOUT_MS = 60_000;

export class EndpointError extends Error {
  override name = 'EndpointError';
}

export function openDockerEndpoint(connection: Pick<ResolvedConnection, 'name' | 'type' | 'config' | 'secret'>): Docker {
  if (connection.type !== 'docker') throw new EndpointError(`connection "${connection.name}" is of type ${connection.type}, not docker`);
  const { socketPath, host, port, tls } = connection.config as { socketPath?: unknown; host?: unknown; port?: unknown; tls?: unknown };
  if (typeof socketPath === 'string' && socketPath) return new Docker({ socketPath, timeout: DOCKER_TIMEOUT_MS });
  if (typeof host !== 'string' || !host) throw new EndpointError(`connection "${connection.name}" needs config.socketPath or config.host`);
  const portNumber = typeof port === 'number' ? port : tls === true ? 2376 : 2375;
  if (tls !== true) return new Docker({ host, port: portNumber, protocol: 'http', timeout: DOCKER_TIMEOUT_MS });
  let material: { ca?: string; cert?: string; key?: string } = {};
  try {
    material = JSON.parse(connection.secret ?? '{}') as typeof material;
  } catch {
    throw new EndpointError(`the secret of connection "${connection.name}" must be JSON with ca, cert and key`);
  }
  if (!material.ca || !material.cert || !material.key) throw new EndpointError(`the secret of connection "${connection.name}" must hold ca, cert and key`);
  return new Docker({ host, port: portNumber, protocol: 'https', ca: material.ca, cert: material.cert, key: material.key, timeout: DOCKER_TIMEOUT_MS });
}

export interface ContainerSummary {
  id: string;
  name: string;
  image: string;
  state: string;
  status: string;
  health?: string;
  /** `compose:<project>`, `stack:<name>`, or `standalone`. */
  group: string;
}

/** The group a container belongs to: its Swarm stack, its Compose project, or none. */
export function containerGroup(labels: Record<string, string> | undefined): string {
  const stack = labels?.['com.docker.stack.namespace'];
  if (stack) return `stack:${stack}`;
  const project = labels?.['com.docker.compose.project'];
  if (project) return `compose:${project}`;
  return 'standalone';
}

function healthOf(status: string): string | undefined {
  const match = /\((healthy|unhealthy|health: starting)\)/.exec(status);
  return match?.[1]?.replace('health: ', '');
}

export async function listContainers(docker: Docker): Promise<Array<{ group: string; containers: ContainerSummary[] }>> {
  const containers = await docker.listContainers({ all: true });
  const groups = new Map<string, ContainerSummary[]>();
  for (const container of containers) {
    const group = containerGroup(container.Labels);
    const health = healthOf(container.Status);
    const summary: ContainerSummary = {
      id: container.Id.slice(0, 12),
      name: (container.Names[0] ?? container.Id).replace(/^\//, ''),
      image: container.Image,
      state: container.State,
      status: container.Status,
      ...(health ? { health } : {}),
      group,
    };
    groups.set(group, [...(groups.get(group) ?? []), summary]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a === 'standalone' ? 1 : b === 'standalone' ? -1 : a.localeCompare(b)))
    .map(([group, members]) => ({ group, containers: members.sort((a, b) => a.name.localeCompare(b.name)) }));
}

/** Docker multiplexes stdout and stderr in one stream for containers without a TTY: split it into lines. */
export function demultiplexLogs(buffer: Buffer): Array<{ stream: 'stdout' | 'stderr'; text: string }> {
  const lines: Array<{ stream: 'stdout' | 'stderr'; text: string }> = [];
  const push = (stream: 'stdout' | 'stderr', chunk: string) => {
    for (const line of chunk.split('\n')) if (line.length > 0) lines.push({ stream, text: line.replace(/\r$/, '') });
  };
  let offset = 0;
  const framed = buffer.length >= 8 && (buffer[0] === 1 || buffer[0] === 2) && buffer[1] === 0 && buffer[2] === 0 && buffer[3] === 0;
  if (!framed) {
    push('stdout', buffer.toString('utf8'));
    return lines;
  }
  while (offset + 8 <= buffer.length) {
    const stream = buffer[offset] === 2 ? 'stderr' : 'stdout';
    const size = buffer.readUInt32BE(offset + 4);
    push(stream, buffer.subarray(offset + 8, offset + 8 + size).toString('utf8'));
    offset += 8 + size;
  }
  return lines;
}
