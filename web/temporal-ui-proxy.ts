// Temporal's web UI behind the web app, as `npm start` runs it: the dev server
// serves the UI under /temporal on a loopback port, and the web app passes it
// the requests of signed-in Jarvis admins (the rule of /temporal-ui/auth, which
// Traefik asks in docker-compose). Read-only: a request that is not GET or
// HEAD is refused, and the UI's settings say write actions are off. The UI's
// codec endpoint is the web app's own /temporal-codec, on the same origin, so
// the browser's session reaches it and the API decides what it decodes.
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';

export const TEMPORAL_UI_PATH = '/temporal';
const SETTINGS_PATH = `${TEMPORAL_UI_PATH}/api/v1/settings`;
/** Not passed on: the browser's Jarvis session stays with Jarvis. */
const PRIVATE_HEADERS = new Set(['cookie', 'authorization', 'host', 'connection', 'x-jarvis-client-address']);

export function isTemporalUiPath(pathname: string): boolean {
  return pathname === TEMPORAL_UI_PATH || pathname.startsWith(`${TEMPORAL_UI_PATH}/`);
}

export interface TemporalUiProxyOptions {
  /** The dev server's UI, e.g. http://127.0.0.1:8233 (it serves under /temporal itself). */
  target: URL;
  /** The answer of /temporal-ui/auth for this request: 204 lets it through. */
  authorize(request: IncomingMessage): Promise<Response>;
  /** Sends a refusal (redirect to sign in, 403) as the web app answers it. */
  sendRefusal(response: Response, reply: ServerResponse): Promise<void>;
}

function forwardedHeaders(headers: IncomingHttpHeaders, target: URL, settings: boolean): Record<string, string | string[]> {
  const kept: Record<string, string | string[]> = { host: target.host };
  for (const [name, value] of Object.entries(headers)) {
    // The settings answer is rewritten, so it is asked for uncompressed.
    if (value === undefined || PRIVATE_HEADERS.has(name) || (settings && name === 'accept-encoding')) continue;
    kept[name] = value;
  }
  return kept;
}

/** The UI's settings with its write actions off, whatever the dev server says. */
function readOnlySettings(body: string): string {
  const settings = JSON.parse(body) as Record<string, unknown>;
  return JSON.stringify({ ...settings, DisableWriteActions: true });
}

export async function serveTemporalUi(request: IncomingMessage, reply: ServerResponse, options: TemporalUiProxyOptions): Promise<void> {
  const verdict = await options.authorize(request);
  if (verdict.status !== 204) return options.sendRefusal(verdict, reply);
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    reply.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' });
    reply.end("Temporal's web UI is read-only in Jarvis: cancel, re-run or resume runs from Jarvis, where approvals and the audit apply");
    return;
  }
  const pathname = new URL(request.url ?? '/', 'http://x').pathname;
  const settings = pathname === SETTINGS_PATH;
  await new Promise<void>((resolve) => {
    const upstream = httpRequest(
      { host: options.target.hostname, port: options.target.port, path: request.url, method: request.method, headers: forwardedHeaders(request.headers, options.target, settings) },
      (answer) => {
        if (settings && answer.statusCode === 200) {
          let body = '';
          answer.setEncoding('utf8');
          answer.on('data', (chunk: string) => (body += chunk));
          answer.on('end', () => {
            reply.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
            reply.end(readOnlySettings(body));
            resolve();
          });
          return;
        }
        reply.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(reply);
        answer.on('end', resolve);
        answer.on('error', () => resolve());
      },
    );
    upstream.on('error', (error) => {
      if (!reply.headersSent) reply.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
      reply.end(`Temporal's web UI is not reachable: ${error.message}`);
      resolve();
    });
    upstream.end();
  });
}
