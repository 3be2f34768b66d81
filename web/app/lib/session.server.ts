// The browser session: an httpOnly, signed cookie holding the user's API tokens
// (the web server calls the API on the user's behalf), plus plain preference
// cookies for the language and the selected environment.
import { createCookie, createCookieSessionStorage } from 'react-router';
import { loadEnv } from '../../../config/env.js';
import { SecretKey } from '../../../security/secret-key.js';

const env = loadEnv();
const secret = SecretKey.load(env.secretKey, env.dataDir).derive('web-session').toString('base64');
const secure = !['127.0.0.1', 'localhost'].includes(env.webHost);

export interface SessionData {
  accessToken: string;
  accessTokenExpiresAt: string;
  refreshToken: string;
  email: string;
}

export const sessionStorage = createCookieSessionStorage<SessionData>({
  cookie: { name: 'jarvis_session', httpOnly: true, sameSite: 'lax', path: '/', secrets: [secret], secure },
});

/** How long "remember me" keeps a session; without it the cookie ends with the browser. */
export const REMEMBER_FOR_SECONDS = 30 * 24 * 3600;

export const languageCookie = createCookie('jarvis_lang', { path: '/', sameSite: 'lax', maxAge: 365 * 24 * 3600, secure });
export const environmentCookie = createCookie('jarvis_env', { path: '/', sameSite: 'lax', maxAge: 365 * 24 * 3600, secure });

/** The browser's WebSocket address for a socket path the API answered (it is reached at JARVIS_PUBLIC_API_URL). */
export function apiSocketUrl(path: string): string {
  return `${webConfig.publicApiUrl.replace(/^http/, 'ws')}${path}`;
}

export const webConfig = { apiUrl: env.apiUrl, publicApiUrl: env.publicApiUrl, temporalUiUrl: env.temporalUiUrl, namespace: env.namespace };

/** The environments the user holds a role in, and the one the header's selector chose (the first when none or a foreign one). */
export async function selectedEnvironment(request: Request, grants: Array<{ environment: string }>): Promise<{ environments: string[]; environment: string }> {
  const environments = [...new Set(grants.map((grant) => grant.environment))].sort();
  const chosen = (await environmentCookie.parse(request.headers.get('cookie'))) as string | null;
  return { environments, environment: chosen && environments.includes(chosen) ? chosen : (environments[0] ?? '') };
}
