// The network topology of an environment's nodes: Swarm clusters (nodes whose
// profiles name the same cluster id; workers link to the managers) and links
// between nodes that share an IPv4 subnet. Exported as JSON or Graphviz DOT.
import type { HardwareProfile } from './node-profile.js';

export interface TopologyNode {
  id: string;
  name: string;
  status: string;
  address: string;
  /** IPv4 addresses in CIDR form, from the node's interfaces. */
  addresses: string[];
  swarm?: { clusterId: string; role: 'manager' | 'worker' };
}

export interface TopologyCluster {
  id: string;
  managers: string[];
  workers: string[];
}

export interface TopologyLink {
  from: string;
  to: string;
  kind: 'swarm' | 'subnet';
  /** For subnet links: the shared network (10.0.0.0/24). */
  subnet?: string;
}

export interface Topology {
  environment: string;
  nodes: TopologyNode[];
  clusters: TopologyCluster[];
  links: TopologyLink[];
}

interface NodeInput {
  id: string;
  name: string;
  status: string;
  address: string;
  profile: HardwareProfile | null;
}

function ipv4ToNumber(address: string): number | undefined {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((part) => !Number.isInteger(part) || part < 0 || part > 255)) return undefined;
  return parts.reduce((total, part) => total * 256 + part, 0);
}

/** The network an IPv4 CIDR address belongs to (10.0.0.7/24 → 10.0.0.0/24); undefined for anything else. */
export function ipv4Network(cidr: string): string | undefined {
  const [address, bits] = cidr.split('/');
  const value = ipv4ToNumber(address ?? '');
  const prefix = Number(bits);
  if (value === undefined || !Number.isInteger(prefix) || prefix < 1 || prefix > 32) return undefined;
  const network = prefix === 32 ? value : value - (value % 2 ** (32 - prefix));
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256);
  return `${octets.join('.')}/${prefix}`;
}

export function buildTopology(environment: string, inputs: NodeInput[]): Topology {
  const nodes: TopologyNode[] = inputs.map((input) => {
    const swarm = input.profile?.docker?.swarm;
    const addresses = (input.profile?.interfaces ?? []).flatMap((entry) => entry.addresses).filter((address) => ipv4Network(address) !== undefined);
    return {
      id: input.id,
      name: input.name,
      status: input.status,
      address: input.address,
      addresses,
      ...(swarm?.state === 'active' && swarm.clusterId && swarm.role ? { swarm: { clusterId: swarm.clusterId, role: swarm.role } } : {}),
    };
  });

  const clusters = new Map<string, TopologyCluster>();
  for (const node of nodes) {
    if (!node.swarm) continue;
    const cluster = clusters.get(node.swarm.clusterId) ?? { id: node.swarm.clusterId, managers: [], workers: [] };
    (node.swarm.role === 'manager' ? cluster.managers : cluster.workers).push(node.name);
    clusters.set(node.swarm.clusterId, cluster);
  }
  const links: TopologyLink[] = [];
  for (const cluster of clusters.values()) {
    for (const worker of cluster.workers) for (const manager of cluster.managers) links.push({ from: worker, to: manager, kind: 'swarm' });
  }

  const bySubnet = new Map<string, string[]>();
  for (const node of nodes) {
    for (const subnet of new Set(node.addresses.map((address) => ipv4Network(address)!))) {
      bySubnet.set(subnet, [...(bySubnet.get(subnet) ?? []), node.name]);
    }
  }
  for (const [subnet, members] of [...bySubnet.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    for (let i = 0; i < members.length; i += 1) {
      for (let j = i + 1; j < members.length; j += 1) links.push({ from: members[i]!, to: members[j]!, kind: 'subnet', subnet });
    }
  }
  return { environment, nodes, clusters: [...clusters.values()], links };
}

/** A DOT identifier, always quoted: names may hold "-" and "." which bare identifiers may not. */
export function dotQuote(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

const STATUS_COLOURS: Record<string, string> = { online: 'palegreen', pending: 'lightgoldenrod', unreachable: 'lightpink' };

/** The topology as a Graphviz digraph: Swarm clusters as subgraphs, worker → manager edges, dashed undirected subnet edges. */
export function topologyToDot(topology: Topology): string {
  const lines = [`digraph ${dotQuote(`jarvis-${topology.environment}`)} {`, '  graph [rankdir=LR];', '  node [shape=box, style="rounded,filled"];'];
  const declare = (node: TopologyNode, indent: string) => {
    const label = [node.name, node.address, node.swarm ? `swarm ${node.swarm.role}` : ''].filter(Boolean).join('\n');
    lines.push(`${indent}${dotQuote(node.name)} [label=${dotQuote(label)}, fillcolor=${dotQuote(STATUS_COLOURS[node.status] ?? 'white')}];`);
  };
  topology.clusters.forEach((cluster, index) => {
    // Graphviz draws a subgraph as a box only when its name starts with "cluster".
    lines.push(`  subgraph ${dotQuote(`cluster_${index}`)} {`, `    label=${dotQuote(`swarm ${cluster.id.slice(0, 12)}`)};`);
    for (const node of topology.nodes.filter((entry) => entry.swarm?.clusterId === cluster.id)) declare(node, '    ');
    lines.push('  }');
  });
  for (const node of topology.nodes.filter((entry) => !entry.swarm)) declare(node, '  ');
  for (const link of topology.links) {
    const attributes = link.kind === 'swarm' ? '[label="swarm"]' : `[label=${dotQuote(link.subnet ?? '')}, dir=none, style=dashed]`;
    lines.push(`  ${dotQuote(link.from)} -> ${dotQuote(link.to)} ${attributes};`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
