// The network topology drawn as SVG: nodes on a circle (members of one Swarm
// cluster next to each other), Swarm links as arrows from worker to manager,
// shared subnets as dashed lines. A layout this simple needs no graph library.
import type { Topology, TopologyNode } from '../../../infra/topology.js';
import type { Translate } from '../i18n/index.js';

const WIDTH = 640;
const HEIGHT = 420;
const NODE_WIDTH = 110;
const NODE_HEIGHT = 40;

interface Placed {
  node: TopologyNode;
  x: number;
  y: number;
}

/** Positions on an ellipse inside the drawing, cluster members adjacent, in a stable order. */
export function layoutTopology(topology: Topology): Map<string, Placed> {
  const ordered = [...topology.nodes].sort((a, b) => (a.swarm?.clusterId ?? '\uffff').localeCompare(b.swarm?.clusterId ?? '\uffff') || a.name.localeCompare(b.name));
  const radiusX = WIDTH / 2 - NODE_WIDTH / 2 - 10;
  const radiusY = HEIGHT / 2 - NODE_HEIGHT / 2 - 10;
  return new Map(
    ordered.map((node, index) => {
      if (ordered.length === 1) return [node.name, { node, x: WIDTH / 2, y: HEIGHT / 2 }];
      const angle = (2 * Math.PI * index) / ordered.length - Math.PI / 2;
      return [node.name, { node, x: WIDTH / 2 + radiusX * Math.cos(angle), y: HEIGHT / 2 + radiusY * Math.sin(angle) }];
    }),
  );
}

/** Where the segment from the centre of a node box towards (x, y) leaves the box, so arrows end at the border. */
function borderPoint(from: Placed, towards: { x: number; y: number }): { x: number; y: number } {
  const dx = towards.x - from.x;
  const dy = towards.y - from.y;
  if (dx === 0 && dy === 0) return from;
  const scale = Math.min(Math.abs(NODE_WIDTH / 2 / (dx || 1e-9)), Math.abs(NODE_HEIGHT / 2 / (dy || 1e-9)));
  return { x: from.x + dx * scale, y: from.y + dy * scale };
}

export function TopologyGraph({ topology, t }: { topology: Topology; t: Translate }) {
  const placed = layoutTopology(topology);
  return (
    <figure className="topology">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={t('infra.topologyLabel', { environment: topology.environment, nodes: topology.nodes.length, links: topology.links.length })}>
        <defs>
          <marker id="topology-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" className="topology-arrow" />
          </marker>
        </defs>
        {topology.links.map((link, index) => {
          const from = placed.get(link.from);
          const to = placed.get(link.to);
          if (!from || !to) return null;
          const start = borderPoint(from, to);
          const end = borderPoint(to, from);
          return (
            <g key={index} className={`topology-link link-${link.kind}`}>
              <line x1={start.x} y1={start.y} x2={end.x} y2={end.y} {...(link.kind === 'swarm' ? { markerEnd: 'url(#topology-arrow)' } : {})} />
              {link.subnet ? (
                <text x={(start.x + end.x) / 2} y={(start.y + end.y) / 2 - 4} className="topology-link-label">
                  {link.subnet}
                </text>
              ) : null}
            </g>
          );
        })}
        {[...placed.values()].map(({ node, x, y }) => (
          <g key={node.id} className={`topology-node node-${node.status}`} data-node={node.name}>
            <rect x={x - NODE_WIDTH / 2} y={y - NODE_HEIGHT / 2} width={NODE_WIDTH} height={NODE_HEIGHT} rx={8} />
            <text x={x} y={y - 3} textAnchor="middle" className="topology-name">
              {node.name}
            </text>
            <text x={x} y={y + 12} textAnchor="middle" className="topology-detail">
              {node.swarm ? t('infra.swarm', { role: node.swarm.role }) : node.address}
            </text>
          </g>
        ))}
      </svg>
      <figcaption className="muted small">
        <span className="legend legend-swarm">{t('infra.legendSwarm')}</span> · <span className="legend legend-subnet">{t('infra.legendSubnet')}</span>
      </figcaption>
    </figure>
  );
}
