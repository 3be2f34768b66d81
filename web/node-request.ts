// A Node request as the Fetch Request React Router renders, and its Response
// back. Here alone the web server decides who the client is and which URL it
// asked for: forwarded headers count only from trusted proxies, and the
// client-address header the API believes is always ours, never the browser's.
import { createReadableStreamFromReadable, writeReadableStreamToWritable } from '@react-router/node';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { TrustedProxies } from '../security/trusted-proxies.js';

/** Read by web/app/lib/api.server.ts and passed to the API as X-Forwarded-For. */
export const CLIENT_ADDRESS_HEADER = 'x-jarvis-client-address';

const HOST = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

export interface RequestSource {
  clientAddress: string;
  /** `https://jarvis.example.org` behind a TLS proxy: what the browser sees, so React Router's origin check of actions holds. */
  origin: string;
}

function firstValue(header: string | string[] | undefined): string | undefined {
  return [header].flat()[0]?.split(',')[0]?.trim() || undefined;
}

export function requestSource(request: IncomingMessage, proxies: TrustedProxies): RequestSource {
  const peer = request.socket.remoteAddress ?? '';
  const fromProxy = proxies.trusts(peer);
  let protocol = (request.socket as Partial<TLSSocket>).encrypted ? 'https' : 'http';
  let host = request.headers.host && HOST.test(request.headers.host) ? request.headers.host : 'localhost';
  if (fromProxy) {
    const forwardedProto = firstValue(request.headers['x-forwarded-proto'])?.toLowerCase();
    if (forwardedProto === 'http' || forwardedProto === 'https') protocol = forwardedProto;
    const forwardedHost = firstValue(request.headers['x-forwarded-host']);
    if (forwardedHost && HOST.test(forwardedHost)) host = forwardedHost;
  }
  return { clientAddress: proxies.clientAddress(peer, fromProxy ? [request.headers['x-forwarded-for'] ?? []].flat().join(',') : undefined), origin: `${protocol}://${host}` };
}

export function toFetchRequest(request: IncomingMessage, source: RequestSource, signal: AbortSignal): Request {
  const headers = new Headers();
  // rawHeaders, not headers: it keeps every repetition, so a browser's own copy of ours is dropped whatever its case.
  for (let index = 0; index + 1 < request.rawHeaders.length; index += 2) {
    const name = request.rawHeaders[index]!;
    if (name.toLowerCase() !== CLIENT_ADDRESS_HEADER) headers.append(name, request.rawHeaders[index + 1]!);
  }
  headers.set(CLIENT_ADDRESS_HEADER, source.clientAddress);
  const method = request.method ?? 'GET';
  const init: RequestInit & { duplex?: 'half' } = { method, headers, signal };
  if (method !== 'GET' && method !== 'HEAD') {
    init.body = createReadableStreamFromReadable(request);
    init.duplex = 'half';
  }
  // Appended, not resolved: a request for `//evil.example/x` stays a path on our origin.
  const target = request.url?.startsWith('/') ? request.url : '/';
  return new Request(`${source.origin}${target}`, init);
}

export async function sendFetchResponse(response: Response, reply: ServerResponse, method: string | undefined): Promise<void> {
  const headers: string[] = [];
  for (const [name, value] of response.headers) headers.push(name, value);
  reply.writeHead(response.status, headers);
  if (response.body && method !== 'HEAD') await writeReadableStreamToWritable(response.body, reply);
  else reply.end();
}
