// Traefik's forward-auth check for Temporal's web UI (served under /temporal):
// only a signed-in Jarvis user who is admin in at least one environment gets
// through; anyone else is sent to sign in, or refused.
import { redirect } from 'react-router';
import type { Route } from './+types/temporal-ui-auth.js';
import { requireApi } from '../lib/api.server.js';

export const TEMPORAL_UI_PATH = '/temporal';

/** Where the user was going, from the proxy's X-Forwarded-Uri: only a path under the UI's own. */
function forwardedPath(request: Request): string {
  const uri = request.headers.get('x-forwarded-uri') ?? '';
  return uri === TEMPORAL_UI_PATH || (uri.startsWith(`${TEMPORAL_UI_PATH}/`) && !/[\\\s]|\/\//.test(uri)) ? uri : TEMPORAL_UI_PATH;
}

export async function loader({ request }: Route.LoaderArgs) {
  const api = await requireApi(request).catch((thrown: unknown) => {
    if (thrown instanceof Response && thrown.status >= 300 && thrown.status < 400) throw redirect(`/login?next=${encodeURIComponent(forwardedPath(request))}`);
    throw thrown;
  });
  const me = await api.get<{ email: string; grants: Array<{ environment: string; role: string }> }>('/auth/me');
  if (!me.grants.some((grant) => grant.role === 'admin')) {
    return new Response("Temporal's web UI is for Jarvis admins", { status: 403, headers: { 'content-type': 'text/plain' } });
  }
  return new Response(null, { status: 204, headers: { 'x-jarvis-user': me.email, ...Object.fromEntries(api.headers) } });
}
