import { redirect, type ActionFunctionArgs } from 'react-router';
import { logOut } from '../lib/api.server.js';
import { sessionStorage } from '../lib/session.server.js';

export async function action({ request }: ActionFunctionArgs) {
  const session = await sessionStorage.getSession(request.headers.get('cookie'));
  const refreshToken = session.get('refreshToken');
  if (refreshToken) await logOut(refreshToken);
  return redirect('/login', { headers: { 'set-cookie': await sessionStorage.destroySession(session) } });
}

export function loader() {
  return redirect('/login');
}
