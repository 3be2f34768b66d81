// Local HTTP servers speaking the parts of Hetzner Cloud's and DigitalOcean's
// APIs Jarvis uses (create, get, delete a server), with token checks, error
// bodies and rate-limit answers. Neither provider can be reached from here.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeProvider {
  baseUrl: string;
  /** Servers by id, with how many more reads before they are active. */
  servers: Map<string, { name: string; pendingReads: number; deleted: boolean }>;
  requests: string[];
  rateLimitNext(count: number): void;
  close(): Promise<void>;
}

/** `ipv4` is the address servers get once active: a test host's own, or a documentation address nothing is sent to. */
export async function startFakeProvider(kind: 'hetzner' | 'digitalocean', token: string, readsUntilActive = 2, ipv4?: string): Promise<FakeProvider> {
  const servers: FakeProvider['servers'] = new Map();
  const requests: string[] = [];
  let limited = 0;
  let sequence = 100;
  const collection = kind === 'hetzner' ? 'servers' : 'droplets';
  const wrap = (server: { name: string; pendingReads: number }, id: string) => {
    const active = server.pendingReads <= 0;
    return kind === 'hetzner'
      ? { server: { id: Number(id), name: server.name, status: active ? 'running' : 'initializing', public_net: { ipv4: active ? { ip: ipv4 ?? '198.51.100.7' } : null } } }
      : { droplet: { id: Number(id), name: server.name, status: active ? 'active' : 'new', networks: { v4: active ? [{ ip_address: ipv4 ?? '198.51.100.8', type: 'public' }] : [] } } };
  };
  const server = createServer((request, response) => {
    const send = (status: number, payload?: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(payload === undefined ? '' : JSON.stringify(payload));
    };
    const failure = (status: number, code: string, message: string, headers: Record<string, string> = {}) =>
      send(status, kind === 'hetzner' ? { error: { code, message } } : { id: code, message }, headers);
    requests.push(`${request.method} ${request.url}`);
    if (limited > 0) {
      limited -= 1;
      return failure(429, 'rate_limit_exceeded', 'too many requests', { 'retry-after': '0' });
    }
    if (request.headers.authorization !== `Bearer ${token}`) return failure(401, 'unauthorized', 'unable to authenticate');
    const [, resource, id] = (request.url ?? '').split('?')[0]!.split('/');
    if (resource !== collection) return failure(404, 'not_found', 'not found');
    if (request.method === 'POST' && !id) {
      let text = '';
      request.on('data', (chunk: Buffer) => (text += chunk.toString()));
      request.on('end', () => {
        const input = JSON.parse(text) as { name?: string; image?: string };
        if (!input.name || !input.image) return failure(422, 'invalid_input', 'name and image are required');
        const newId = String((sequence += 1));
        servers.set(newId, { name: input.name, pendingReads: readsUntilActive, deleted: false });
        send(201, wrap(servers.get(newId)!, newId));
      });
      return;
    }
    const known = id ? servers.get(id) : undefined;
    if (!known || known.deleted) return failure(404, 'not_found', `${collection} ${id} not found`);
    if (request.method === 'GET') {
      known.pendingReads -= 1;
      return send(200, wrap(known, id!));
    }
    if (request.method === 'DELETE') {
      known.deleted = true;
      return send(kind === 'hetzner' ? 200 : 204, kind === 'hetzner' ? { action: { id: 1, status: 'running' } } : undefined);
    }
    return failure(405, 'method_not_allowed', 'method not allowed');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    servers,
    requests,
    rateLimitNext: (count) => {
      limited = count;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
