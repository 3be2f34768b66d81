import { redirect } from 'react-router';
import type { Route } from './+types/logout.js';
import { logOut } from '../lib/api.server.js';
import { sessionStorage } from '../lib/session.server.js';

export async function action({ request }: Route.ActionArgs) {
  const session = await sessionStorage.getSession(request.headers.get('cookie'));
  const refreshToken = session.get('refreshToken');
  if (refreshToken) await logOut(refreshToken);
  return redirect('/login', { headers: { 'set-cookie': await sessionStorage.destroySession(session) } });
}

export function loader() {
  return redirect('/login');
}
