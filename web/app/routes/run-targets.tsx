// A page of a fleet step's targets (status filter, cursor), for the run page's fleet view.
import { data } from 'react-router';
import type { Route } from './+types/run-targets.js';
import { requireApi } from '../lib/api.server.js';

const PASSED_ON = ['step', 'status', 'cursor', 'limit'];

export async function loader({ request, params }: Route.LoaderArgs) {
  const api = await requireApi(request);
  const asked = new URL(request.url).searchParams;
  const query = new URLSearchParams([...asked].filter(([name]) => PASSED_ON.includes(name)));
  return data(await api.get<unknown>(`/runs/${encodeURIComponent(params.id ?? '')}/targets?${query}`), { headers: api.headers });
}
