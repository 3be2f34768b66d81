// Language and environment choices, kept in plain cookies.
import { redirect } from 'react-router';
import type { Route } from './+types/preferences.js';
import { LANGUAGES } from '../i18n/index.js';
import { safeRedirectPath } from '../lib/safe-redirect.js';
import { environmentCookie, languageCookie } from '../lib/session.server.js';

export async function action({ request }: Route.ActionArgs) {
  const form = await request.formData();
  const headers = new Headers();
  const language = form.get('language');
  if (typeof language === 'string' && (LANGUAGES as readonly string[]).includes(language)) headers.append('set-cookie', await languageCookie.serialize(language));
  const environment = form.get('environment');
  if (typeof environment === 'string' && /^[A-Za-z0-9._-]{1,100}$/.test(environment)) headers.append('set-cookie', await environmentCookie.serialize(environment));
  return redirect(safeRedirectPath(form.get('returnTo')), { headers });
}

export function loader() {
  return redirect('/dashboard');
}
