// The web app's server: `npm run web` (and part of `npm start`). Serves the
// built client assets (compressed, cached for good: their names carry a hash)
// and renders every page on the server with React Router.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { createBrotliCompress, createGzip } from 'node:zlib';
import { createRequestHandler, type ServerBuild } from 'react-router';
import { PROJECT_ROOT, loadEnv, type JarvisEnv } from '../config/env.js';
import { TrustedProxies } from '../security/trusted-proxies.js';
import { CLIENT_ADDRESS_HEADER, requestSource, sendFetchResponse, toFetchRequest } from './node-request.js';
import { isTemporalUiPath, serveTemporalUi } from './temporal-ui-proxy.js';

const BUILD_DIR = path.join(PROJECT_ROOT, 'web', 'build');
const CLIENT_DIR = path.join(BUILD_DIR, 'client');
const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};
const COMPRESSIBLE = new Set(['.js', '.css', '.svg', '.json']);

async function serveStatic(request: IncomingMessage, response: ServerResponse): Promise<boolean> {
  const pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
  const file = path.join(CLIENT_DIR, path.normalize(pathname));
  if (!file.startsWith(CLIENT_DIR + path.sep) || !existsSync(file) || !statSync(file).isFile()) return false;
  const extension = path.extname(file);
  response.setHeader('content-type', TYPES[extension] ?? 'application/octet-stream');
  response.setHeader('cache-control', pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'public, max-age=300');
  response.setHeader('x-content-type-options', 'nosniff');
  const accepted = String(request.headers['accept-encoding'] ?? '');
  if (COMPRESSIBLE.has(extension) && /\bbr\b/.test(accepted)) {
    response.setHeader('content-encoding', 'br');
    response.setHeader('vary', 'accept-encoding');
    await pipeline(createReadStream(file), createBrotliCompress(), response);
  } else if (COMPRESSIBLE.has(extension) && /\bgzip\b/.test(accepted)) {
    response.setHeader('content-encoding', 'gzip');
    response.setHeader('vary', 'accept-encoding');
    await pipeline(createReadStream(file), createGzip(), response);
  } else {
    await pipeline(createReadStream(file), response);
  }
  return true;
}

export interface WebOptions {
  /** Temporal's web UI to serve under /temporal (the dev server `npm start` runs, serving itself there). */
  temporalUi?: URL;
}

export async function startWeb(env: JarvisEnv, log: (line: string) => void, options: WebOptions = {}) {
  const serverBuild = path.join(BUILD_DIR, 'server', 'index.js');
  if (!existsSync(serverBuild)) throw new Error('the web app is not built: run `npm run web:build`');
  const build = (await import(pathToFileURL(serverBuild).href)) as ServerBuild;
  const handle = createRequestHandler(build, 'production');
  const proxies = new TrustedProxies(env.trustedProxies);
  // Who the browser is (for the API's rate limits, sign-in backoff and audit)
  // and the URL it asked for (for React Router's origin check of actions):
  // from X-Forwarded-* only when the peer is one of JARVIS_TRUSTED_PROXIES.
  const renderPage = async (request: IncomingMessage, response: ServerResponse) => {
    const aborted = new AbortController();
    response.once('close', () => aborted.abort());
    const answer = await handle(toFetchRequest(request, requestSource(request, proxies), aborted.signal));
    await sendFetchResponse(answer, response, request.method);
  };
  // The forward-auth rule of docker-compose's Traefik, asked of the app itself.
  const authorizeTemporalUi = (request: IncomingMessage) => {
    const source = requestSource(request, proxies);
    const headers = new Headers({ 'x-forwarded-uri': request.url ?? '/', [CLIENT_ADDRESS_HEADER]: source.clientAddress });
    if (request.headers.cookie) headers.set('cookie', request.headers.cookie);
    return handle(new Request(`${source.origin}/temporal-ui/auth`, { headers }));
  };
  const temporalUi = options.temporalUi;
  const serve = async (request: IncomingMessage, response: ServerResponse) => {
    if (temporalUi && isTemporalUiPath(new URL(request.url ?? '/', 'http://x').pathname)) {
      return serveTemporalUi(request, response, {
        target: temporalUi,
        authorize: authorizeTemporalUi,
        sendRefusal: (answer, reply) => sendFetchResponse(answer, reply, request.method),
      });
    }
    if (await serveStatic(request, response)) return;
    await renderPage(request, response);
  };
  const server = createServer((request, response) => {
    response.setHeader('x-frame-options', 'DENY');
    response.setHeader('referrer-policy', 'same-origin');
    serve(request, response)
      .catch((error: Error) => {
        log(`web: ${request.method} ${request.url} failed: ${error.message}`);
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
        response.end('Internal error');
      });
  });
  await new Promise<void>((resolve) => server.listen(env.webPort, env.webHost, resolve));
  log(`Web app at http://${env.webHost}:${env.webPort}`);
  return {
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const web = await startWeb(loadEnv(), (line) => console.log(`[jarvis web] ${line}`));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void web.stop().then(() => process.exit(0)));
}
