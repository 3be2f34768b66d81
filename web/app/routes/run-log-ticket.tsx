// A fresh one-minute ticket for the run's live-log socket (asked again on every reconnect).
import { data } from 'react-router';
import type { Route } from './+types/run-log-ticket.js';
import { requireApi } from '../lib/api.server.js';
import { apiSocketUrl } from '../lib/session.server.js';

export async function action({ request, params }: Route.ActionArgs) {
  const api = await requireApi(request);
  const ticket = await api.send<{ url: string }>('POST', `/runs/${encodeURIComponent(params.id ?? '')}/log-ticket`);
  return data({ url: apiSocketUrl(ticket.url) }, { headers: api.headers });
}
