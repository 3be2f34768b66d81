import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseAllowlist } from './egress-policy.js';
import { BadRedirectError, EgressRefusedError, guardedRequest, MAX_REDIRECTS, type GuardedRequest } from './guarded-request.js';
import { parseIp } from './ip-address.js';

interface Seen {
  server: string;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

let seen: Seen[] = [];
const servers: Server[] = [];

/** A local server answering `handle`, recording each request it receives. */
async function listen(name: string, host: string, handle: (url: string, port: number) => { status: number; headers?: Record<string, string>; body?: string }) {
  const server = createServer((request, response) => {
    seen.push({ server: name, method: request.method ?? '', url: request.url ?? '', headers: request.headers });
    const answer = handle(request.url ?? '', (server.address() as AddressInfo).port);
    response.writeHead(answer.status, answer.headers).end(answer.body ?? '');
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  servers.push(server);
  return (server.address() as AddressInfo).port;
}

let internalPort = 0;
let gatewayPort = 0;

beforeAll(async () => {
  internalPort = await listen('internal', '127.0.0.1', (url) => (url === '/loop' ? { status: 302, headers: { location: '/loop' } } : { status: 200, body: 'internal secret page' }));
  // An allowlisted server (on 127.0.0.2) that redirects wherever its query says.
  gatewayPort = await listen('gateway', '127.0.0.2', (url) => {
    const to = new URL(url, 'http://gateway').searchParams.get('to');
    const status = Number(new URL(url, 'http://gateway').searchParams.get('status') ?? 302);
    return to ? { status, headers: { location: to } } : { status: 200, body: 'gateway' };
  });
});

afterAll(() => {
  for (const server of servers) server.close();
});

beforeEach(() => {
  seen = [];
});

function request(url: string, allow: string[] = [], extra: Partial<GuardedRequest> = {}) {
  return guardedRequest({ url, method: 'GET', headers: {}, signal: AbortSignal.timeout(5_000), allowlist: parseAllowlist('dev', allow).allowlist, ...extra });
}

describe('a guarded request', () => {
  it('refuses a loopback address unless the allowlist names it, without connecting', async () => {
    const url = `http://127.0.0.1:${internalPort}/`;
    await expect(request(url)).rejects.toThrow(new EgressRefusedError('127.0.0.1 is a loopback address; an admin can allow it for dev with PUT /environments/dev/egress-allowlist (add "127.0.0.1" or a range holding it)'));
    expect(seen).toEqual([]);
    expect(await request(url, ['127.0.0.1'])).toMatchObject({ status: 200, body: 'internal secret page' });
  });

  it('refuses a host name that resolves to loopback', async () => {
    await expect(request(`http://localhost:${internalPort}/`)).rejects.toThrow(/^localhost resolves to (127\.0\.0\.1|::1), a loopback address; .*or the host "localhost"\)$/);
    await expect(request(`http://LocalHost:${internalPort}/`)).rejects.toThrow(EgressRefusedError);
    expect(seen).toEqual([]);
  });

  it('refuses the decimal, hex, octal, short and IPv6 spellings of loopback', async () => {
    for (const host of ['2130706433', '0x7f.1', '0x7f000001', '017700000001', '127.1', '[::ffff:127.0.0.1]', '[::1]']) {
      await expect(request(`http://${host}:${internalPort}/`), host).rejects.toThrow(EgressRefusedError);
    }
    expect(seen).toEqual([]);
  });

  it('refuses the cloud metadata address, even inside an allowed range', async () => {
    await expect(request('http://169.254.169.254/latest/meta-data/', ['169.254.0.0/16'])).rejects.toThrow('169.254.169.254 is a cloud metadata address');
    await expect(request('http://0xa9fea9fe/latest/meta-data/')).rejects.toThrow('169.254.169.254 is a cloud metadata address');
  });

  it('checks every redirect hop: an allowed server cannot bounce the request to loopback', async () => {
    const target = `http://127.0.0.1:${internalPort}/`;
    const url = `http://127.0.0.2:${gatewayPort}/?to=${encodeURIComponent(target)}`;
    const refused = await request(url, ['127.0.0.2']).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(EgressRefusedError);
    expect(refused).toMatchObject({ redirectedTo: target, message: expect.stringMatching(`^redirected to ${target}, and 127.0.0.1 is a loopback address; `) });
    expect(seen.map((request) => request.server)).toEqual(['gateway']);
    // Allowed both ways, the redirect is followed.
    expect(await request(url, ['127.0.0.2', '127.0.0.1'])).toMatchObject({ status: 200, body: 'internal secret page', url: target });
  });

  it('refuses redirects to other schemes and stops after a few hops', async () => {
    await expect(request(`http://127.0.0.2:${gatewayPort}/?to=${encodeURIComponent('file:///etc/passwd')}`, ['127.0.0.2'])).rejects.toThrow('redirected to file:///etc/passwd, and file: URLs are not fetched');
    await expect(request(`http://127.0.0.1:${internalPort}/loop`, ['127.0.0.1'])).rejects.toThrow(BadRedirectError);
    expect(seen.filter((request) => request.url === '/loop')).toHaveLength(MAX_REDIRECTS + 1);
  });

  it('connects to the address it checked, not to what a second lookup would answer', async () => {
    // A rebinding resolver: loopback (allowlisted) when checked, the metadata address on any later lookup.
    let lookups = 0;
    const resolve = async () => [parseIp(lookups++ === 0 ? '127.0.0.1' : '169.254.169.254')!];
    const answer = await request(`http://rebind.example:${internalPort}/`, ['127.0.0.1'], { resolve });
    expect(answer).toMatchObject({ status: 200, body: 'internal secret page' });
    expect(lookups).toBe(1);
    expect(seen[0]?.headers.host).toBe(`rebind.example:${internalPort}`);
  });

  it('drops credentials on a redirect to another origin and turns a 303 into a GET without body', async () => {
    const target = `http://127.0.0.1:${internalPort}/landing`;
    const url = `http://127.0.0.2:${gatewayPort}/?status=303&to=${encodeURIComponent(target)}`;
    await request(url, ['127.0.0.0/8'], { method: 'POST', body: '{"a":1}', headers: { authorization: 'Bearer s3cr3t', 'content-type': 'application/json' } });
    expect(seen.map(({ server, method, headers }) => ({ server, method, authorization: headers.authorization, type: headers['content-type'] }))).toEqual([
      { server: 'gateway', method: 'POST', authorization: 'Bearer s3cr3t', type: 'application/json' },
      { server: 'internal', method: 'GET', authorization: undefined, type: undefined },
    ]);
  });
});
