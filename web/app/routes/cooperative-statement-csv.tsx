// An account's statement as a CSV download, through the API (RBAC applies there).
import type { Route } from './+types/cooperative-statement-csv.js';
import { requireApi } from '../lib/api.server.js';

export async function loader({ request }: Route.LoaderArgs) {
  const api = await requireApi(request);
  const account = new URL(request.url).searchParams.get('account') ?? '';
  const file = await api.download(`/cooperative/accounts/${encodeURIComponent(account)}/statement?format=csv`);
  const headers = new Headers(api.headers);
  headers.set('content-type', file.contentType);
  headers.set('content-disposition', `attachment; filename="statement-${account.replace(/[^A-Za-z0-9._-]+/g, '-')}.csv"`);
  return new Response(file.body, { headers });
}
