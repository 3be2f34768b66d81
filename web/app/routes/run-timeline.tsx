// The run's step timeline from its history (attempts, arguments, outputs), loaded after the page shows.
import { data } from 'react-router';
import type { Route } from './+types/run-timeline.js';
import { requireApi } from '../lib/api.server.js';

export async function loader({ request, params }: Route.LoaderArgs) {
  const api = await requireApi(request);
  return data(await api.get<unknown[]>(`/runs/${encodeURIComponent(params.id ?? '')}/timeline`), { headers: api.headers });
}
