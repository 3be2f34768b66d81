// The web server's client of the API: every call carries the signed-in user's
// access token, refreshed (and the session cookie rewritten) when it expires.
import { redirect } from 'react-router';
import { REMEMBER_FOR_SECONDS, sessionStorage, webConfig, type SessionData } from './session.server.js';

export interface Problem {
  status: number;
  title?: string;
  detail?: string;
  errors?: Array<{ path: string; message: string }>;
}

/** A problem as one line: what went wrong, then each field's mistake with its path. */
export function problemMessage(problem: Problem): string {
  const details = (problem.errors ?? []).map((entry) => `${entry.path}: ${entry.message}`).join('; ');
  return [problem.detail ?? problem.title, details].filter(Boolean).join(' — ');
}

export class ApiProblem extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title ?? `API answered ${problem.status}`);
  }
}

interface TokenAnswer {
  accessToken: string;
  accessTokenExpiresAt: string;
  refreshToken: string;
}

/** Set by web/node-request.ts (the browser's own copy is dropped there): the browser's address, forwarded so the API limits and audits each client, not the web server. */
const CLIENT_ADDRESS_HEADER = 'x-jarvis-client-address';

function forwardedFor(request: Request): Record<string, string> {
  const address = request.headers.get(CLIENT_ADDRESS_HEADER);
  return address ? { 'x-forwarded-for': address } : {};
}

async function call<T>(path: string, init: { method?: string; body?: unknown; token?: string; headers?: Record<string, string> } = {}): Promise<{ data: T; headers: Headers }> {
  const response = await fetch(`${webConfig.apiUrl}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...init.headers,
    },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await response.text();
  const parsed: unknown = text ? JSON.parse(text) : undefined;
  if (!response.ok) throw new ApiProblem({ status: response.status, ...(parsed as object) });
  return { data: parsed as T, headers: response.headers };
}

/** Signs in; answers the tokens to keep in the session, or the API's problem. */
export async function logIn(request: Request, email: string, password: string, totp?: string): Promise<TokenAnswer> {
  return (await call<TokenAnswer>('/auth/login', { method: 'POST', body: { email, password, ...(totp ? { totp } : {}) }, headers: forwardedFor(request) })).data;
}

export async function logOut(refreshToken: string): Promise<void> {
  await call('/auth/logout', { method: 'POST', body: { refreshToken } }).catch(() => undefined);
}

export async function readiness(): Promise<{ status: string; checks?: Record<string, string> }> {
  try {
    return (await call<{ status: string; checks?: Record<string, string> }>('/readyz')).data;
  } catch (error) {
    if (error instanceof ApiProblem) return { status: 'unready', ...(error.problem as object) };
    return { status: 'unreachable' };
  }
}

export async function startSession(request: Request, email: string, tokens: TokenAnswer, remember: boolean): Promise<string> {
  const session = await sessionStorage.getSession(request.headers.get('cookie'));
  session.set('accessToken', tokens.accessToken);
  session.set('accessTokenExpiresAt', tokens.accessTokenExpiresAt);
  session.set('refreshToken', tokens.refreshToken);
  session.set('email', email);
  return sessionStorage.commitSession(session, remember ? { maxAge: REMEMBER_FOR_SECONDS } : {});
}

export interface ApiSession {
  email: string;
  /** Set-Cookie headers to send back when the tokens were refreshed. */
  headers: Headers;
  get<T>(path: string): Promise<T>;
  getWithHeaders<T>(path: string): Promise<{ data: T; headers: Headers }>;
  send<T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown, headers?: Record<string, string>): Promise<T>;
  /** A POST whose answer is streamed (server-sent events): the API's response as is, or its problem thrown. */
  stream(path: string, body: unknown, signal?: AbortSignal): Promise<Response>;
  /** A GET whose answer is a file (a CSV or PDF report): its bytes and content type, or its problem thrown. */
  download(path: string): Promise<{ body: ArrayBuffer; contentType: string }>;
  /** A GET whose answer is a large file (an artifact), streamed as it comes: the API's response, or its problem thrown. */
  downloadStream(path: string): Promise<Response>;
  refreshToken(): string;
}

/** The signed-in user's API session, or a redirect to the login page. */
export async function requireApi(request: Request): Promise<ApiSession> {
  const session = await sessionStorage.getSession(request.headers.get('cookie'));
  const data = session.data as Partial<SessionData>;
  const url = new URL(request.url);
  const toLogin = () => redirect(`/login?next=${encodeURIComponent(url.pathname + url.search)}`);
  if (!data.accessToken || !data.refreshToken || !data.email) throw toLogin();
  const headers = new Headers();
  let token = data.accessToken;
  let refreshToken = data.refreshToken;
  const refresh = async () => {
    try {
      const fresh = (await call<TokenAnswer>('/auth/refresh', { method: 'POST', body: { refreshToken }, headers: forwardedFor(request) })).data;
      token = fresh.accessToken;
      refreshToken = fresh.refreshToken;
      session.set('accessToken', fresh.accessToken);
      session.set('accessTokenExpiresAt', fresh.accessTokenExpiresAt);
      session.set('refreshToken', fresh.refreshToken);
      headers.set('set-cookie', await sessionStorage.commitSession(session));
    } catch {
      throw redirect('/login', { headers: { 'set-cookie': await sessionStorage.destroySession(session) } });
    }
  };
  // Refresh a little before expiry so a page's several calls share one token.
  if (Date.parse(data.accessTokenExpiresAt ?? '') - Date.now() < 30_000) await refresh();
  const client = forwardedFor(request);
  const withToken = async <T>(path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) => {
    const sent = { ...init, headers: { ...client, ...init.headers } };
    try {
      return await call<T>(path, { ...sent, token });
    } catch (error) {
      if (!(error instanceof ApiProblem) || error.problem.status !== 401) throw error;
      await refresh();
      return call<T>(path, { ...sent, token });
    }
  };
  const fetchFile = async (path: string) => {
    const open = () => fetch(`${webConfig.apiUrl}${path}`, { headers: { ...client, authorization: `Bearer ${token}` } });
    let response = await open();
    if (response.status === 401) {
      await response.body?.cancel();
      await refresh();
      response = await open();
    }
    if (!response.ok) throw new ApiProblem({ status: response.status, ...((await response.json().catch(() => ({}))) as object) });
    return response;
  };
  return {
    email: data.email,
    headers,
    get: async <T,>(path: string) => (await withToken<T>(path)).data,
    getWithHeaders: <T,>(path: string) => withToken<T>(path),
    send: async <T,>(method: string, path: string, body?: unknown, extra?: Record<string, string>) => (await withToken<T>(path, { method, body, ...(extra ? { headers: extra } : {}) })).data,
    stream: async (path: string, body: unknown, signal?: AbortSignal) => {
      const open = () =>
        fetch(`${webConfig.apiUrl}${path}`, {
          method: 'POST',
          headers: { ...client, 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
          body: JSON.stringify(body),
          ...(signal ? { signal } : {}),
        });
      let response = await open();
      if (response.status === 401) {
        await response.body?.cancel();
        await refresh();
        response = await open();
      }
      if (!response.ok) {
        const text = await response.text();
        let parsed: object = {};
        try {
          parsed = JSON.parse(text) as object;
        } catch {
          // Not a problem document: the status says enough.
        }
        throw new ApiProblem({ status: response.status, ...parsed });
      }
      return response;
    },
    download: async (path: string) => {
      const response = await fetchFile(path);
      return { body: await response.arrayBuffer(), contentType: response.headers.get('content-type') ?? 'application/octet-stream' };
    },
    downloadStream: (path: string) => fetchFile(path),
    refreshToken: () => refreshToken,
  };
}

/** Approves or rejects a run's step from a form with `step` and `comment` (a rejection's reason). */
export async function decideStep(api: ApiSession, runId: string, form: FormData, decision: 'approve' | 'reject'): Promise<void> {
  const step = encodeURIComponent(String(form.get('step') ?? ''));
  const comment = String(form.get('comment') ?? '').trim();
  await api.send('POST', `/runs/${encodeURIComponent(runId)}/steps/${step}/${decision}`, decision === 'approve' ? (comment ? { comment } : {}) : { reason: comment });
}
