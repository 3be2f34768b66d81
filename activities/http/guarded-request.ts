// One HTTP exchange that connects only where the egress policy allows. Each
// hop resolves its host, checks every address, then connects to the checked
// addresses themselves (no second lookup that a rebinding DNS server could
// answer differently); redirects are followed here, one checked hop at a time.
import { lookup } from 'node:dns/promises';
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { addAbortSignal, pipeline, type Readable } from 'node:stream';
import zlib from 'node:zlib';
import { describeRefusal, refusalFor, type EgressAllowlist } from './egress-policy.js';
import { formatIp, parseIp, type IpAddress } from './ip-address.js';

export const MAX_REDIRECTS = 5;
/** Bodies are read up to this many bytes (after decompression); the rest is dropped. */
const MAX_BODY_BYTES = 1_048_576;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Credentials meant for one origin are not carried to another by a redirect. */
const ORIGIN_BOUND_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

export type Resolver = (host: string) => Promise<IpAddress[]>;

export interface GuardedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
  allowlist: EgressAllowlist;
  /** Host name to addresses; the system resolver (what Node would use) unless a test passes its own. */
  resolve?: Resolver;
}

export interface GuardedResponse {
  status: number;
  statusText: string;
  headers: Record<string, string>;
  body: string;
  /** Where the answer came from, after redirects. */
  url: string;
}

/** The policy refused a hop: final, retrying cannot change it. */
export class EgressRefusedError extends Error {
  override name = 'EgressRefusedError';
  constructor(
    reason: string,
    /** The hop that was refused when it was reached by a redirect. */
    readonly redirectedTo?: string,
  ) {
    super(redirectedTo ? `redirected to ${redirectedTo}, and ${reason}` : reason);
  }
}

/** A redirect that cannot be followed (too many, another scheme, an invalid Location). */
export class BadRedirectError extends Error {
  override name = 'BadRedirectError';
}

const systemResolver: Resolver = async (host) => {
  const found = await lookup(host, { all: true, verbatim: true });
  return found.map((entry) => parseIp(entry.address)).filter((address): address is IpAddress => address !== undefined);
};

async function resolveHost(hostname: string, resolve: Resolver): Promise<IpAddress[]> {
  const literal = parseIp(hostname);
  if (literal) return [literal];
  const addresses = await resolve(hostname);
  if (addresses.length === 0) throw new Error(`${hostname} has no address`);
  return addresses;
}

/** Hands the socket the addresses that were checked, whatever it asks for. */
function pinnedLookup(addresses: IpAddress[]): LookupFunction {
  return (hostname, options, callback) => {
    const wanted = addresses.filter((address) => !options.family || options.family === address.family || options.family === `IPv${address.family}`);
    const entries = wanted.map((address) => ({ address: formatIp(address), family: address.family }));
    const first = entries[0];
    if (!first) {
      callback(Object.assign(new Error(`${hostname} has no IPv${String(options.family)} address`), { code: 'ENOTFOUND' }), '', 0);
      return;
    }
    if (options.all) (callback as unknown as (error: null, entries: Array<{ address: string; family: number }>) => void)(null, entries);
    else callback(null, first.address, first.family);
  };
}

function send(url: URL, method: string, headers: Record<string, string>, body: string | undefined, addresses: IpAddress[], signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const transport = url.protocol === 'https:' ? https : http;
    // No shared agent: a pooled socket would skip the check this hop just made.
    const request = transport.request(url, { method, headers, signal, agent: false, lookup: pinnedLookup(addresses) }, resolve);
    request.on('error', reject);
    request.end(body);
  });
}

function decoderFor(encoding: string | undefined) {
  switch (encoding?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip();
    case 'deflate':
      return zlib.createInflate();
    case 'br':
      return zlib.createBrotliDecompress();
    default:
      return undefined;
  }
}

async function readBody(response: IncomingMessage, signal: AbortSignal): Promise<string> {
  addAbortSignal(signal, response);
  const decoder = decoderFor(response.headers['content-encoding']);
  const source: Readable = decoder ? pipeline(response, decoder, () => {}) : response;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of source) {
    const buffer = chunk as Buffer;
    chunks.push(buffer);
    size += buffer.length;
    if (size >= MAX_BODY_BYTES) {
      response.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString('utf8');
}

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).flatMap(([name, value]) => (value === undefined ? [] : [[name, Array.isArray(value) ? value.join(', ') : value]])));
}

function withDefaults(headers: Record<string, string>, body: string | undefined): Record<string, string> {
  const given = new Set(Object.keys(headers).map((name) => name.toLowerCase()));
  const defaults: Record<string, string> = { 'user-agent': 'Jarvis', accept: '*/*', 'accept-encoding': 'gzip, deflate, br' };
  if (body !== undefined) defaults['content-length'] = String(Buffer.byteLength(body));
  return { ...Object.fromEntries(Object.entries(defaults).filter(([name]) => !given.has(name))), ...headers };
}

function without(headers: Record<string, string>, names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !names.includes(name.toLowerCase())));
}

export async function guardedRequest(request: GuardedRequest): Promise<GuardedResponse> {
  const resolve = request.resolve ?? systemResolver;
  let url = new URL(request.url);
  let method = request.method.toUpperCase();
  let headers = { ...request.headers };
  let body = request.body;
  for (let hop = 0; ; hop += 1) {
    const redirectedTo = hop > 0 ? url.href : undefined;
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new EgressRefusedError(`${url.protocol} URLs are not fetched, only http: and https:`, redirectedTo);
    }
    const addresses = await resolveHost(url.hostname, resolve);
    const refusal = refusalFor(url.hostname, addresses, request.allowlist);
    if (refusal) throw new EgressRefusedError(describeRefusal(refusal, request.allowlist.environment), redirectedTo);
    const response = await send(url, method, withDefaults(headers, body), body, addresses, request.signal);
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (!REDIRECT_STATUSES.has(status) || location === undefined) {
      if (method === 'HEAD') response.resume();
      const text = method === 'HEAD' ? '' : await readBody(response, request.signal);
      return { status, statusText: response.statusMessage ?? '', headers: flattenHeaders(response.headers), body: text, url: url.href };
    }
    response.resume();
    if (hop >= MAX_REDIRECTS) throw new BadRedirectError(`more than ${MAX_REDIRECTS} redirects (the last to ${location})`);
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new BadRedirectError(`redirected to an invalid URL: ${location}`);
    }
    // As browsers and fetch do: 303 (and 301/302 after a POST) continue as a GET without the body.
    if ((status === 303 && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST')) {
      method = 'GET';
      body = undefined;
      headers = without(headers, ['content-type', 'content-length']);
    }
    if (next.origin !== url.origin) headers = without(headers, ORIGIN_BOUND_HEADERS);
    url = next;
  }
}
