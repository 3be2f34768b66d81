// The run's step timeline from its history (attempts, arguments, outputs), loaded after the page shows.
import { data, type LoaderFunctionArgs } from 'react-router';
import { requireApi } from '../lib/api.server.js';

export async function loader({ request, params }: LoaderFunctionArgs) {
  const api = await requireApi(request);
  return data(await api.get<unknown[]>(`/runs/${encodeURIComponent(params.id ?? '')}/timeline`), { headers: api.headers });
}
