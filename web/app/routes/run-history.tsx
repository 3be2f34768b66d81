// The run's Temporal history as a JSON download.
import type { Route } from './+types/run-history.js';
import { requireApi } from '../lib/api.server.js';

export async function loader({ request, params }: Route.LoaderArgs) {
  const api = await requireApi(request);
  const id = params.id ?? '';
  const history = await api.get<unknown>(`/runs/${encodeURIComponent(id)}/history`);
  const headers = new Headers(api.headers);
  headers.set('content-type', 'application/json');
  headers.set('content-disposition', `attachment; filename="${id.replace(/[^A-Za-z0-9._-]/g, '_')}.history.json"`);
  return new Response(JSON.stringify(history, null, 2), { headers });
}
