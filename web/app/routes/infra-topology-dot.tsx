// The selected environment's topology as a Graphviz DOT download.
import type { Route } from './+types/infra-topology-dot.js';
import { topologyToDot, type Topology } from '../../../infra/topology.js';
import { requireApi } from '../lib/api.server.js';
import { selectedEnvironment } from '../lib/session.server.js';

export async function loader({ request }: Route.LoaderArgs) {
  const api = await requireApi(request);
  const { environment } = await selectedEnvironment(request, (await api.get<{ grants: Array<{ environment: string }> }>('/auth/me')).grants);
  const topology = await api.get<Topology>(`/network/topology?${new URLSearchParams({ environment, format: 'json' })}`);
  const headers = new Headers(api.headers);
  headers.set('content-type', 'text/vnd.graphviz; charset=utf-8');
  headers.set('content-disposition', `attachment; filename="jarvis-${environment.replace(/[^A-Za-z0-9._-]/g, '_')}.dot"`);
  return new Response(topologyToDot(topology), { headers });
}
