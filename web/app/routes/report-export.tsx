// The run report as a CSV or PDF download, in the user's language, through the API (RBAC applies there).
import type { Route } from './+types/report-export.js';
import { requireApi } from '../lib/api.server.js';

const RANGES = new Set(['24h', '7d', '30d']);

export async function loader({ request }: Route.LoaderArgs) {
  const api = await requireApi(request);
  const url = new URL(request.url);
  const format = url.searchParams.get('format') === 'pdf' ? 'pdf' : 'csv';
  const range = url.searchParams.get('range') ?? '7d';
  const query = new URLSearchParams({ format, range: RANGES.has(range) ? range : '7d', lang: url.searchParams.get('lang') === 'pt-BR' ? 'pt-BR' : 'en' });
  const file = await api.download(`/reports/runs?${query}`);
  const headers = new Headers(api.headers);
  headers.set('content-type', file.contentType);
  headers.set('content-disposition', `attachment; filename="jarvis-runs-${query.get('range')}.${format}"`);
  return new Response(file.body, { headers });
}
