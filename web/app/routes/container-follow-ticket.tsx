// A one-minute ticket to follow a container's output and stats from the browser.
import { data } from 'react-router';
import type { Route } from './+types/container-follow-ticket.js';
import { requireApi } from '../lib/api.server.js';
import { apiSocketUrl } from '../lib/session.server.js';

export async function action({ request, params }: Route.ActionArgs) {
  const api = await requireApi(request);
  const form = await request.formData();
  const ticket = await api.send<{ url: string }>('POST', `/containers/${encodeURIComponent(params.name ?? '')}/log-ticket`, {
    environment: String(form.get('environment') ?? ''),
    endpoint: String(form.get('endpoint') ?? ''),
  });
  return data({ url: apiSocketUrl(ticket.url) }, { headers: api.headers });
}
