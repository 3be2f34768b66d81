// A local HTTP server speaking the part of Cloudflare's v4 API that Jarvis uses
// (zones by name, DNS records list/create/update/delete), with its error shape,
// token check and rate-limit answers. Cloudflare itself cannot be reached here.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

interface DnsRecord {
  id: string;
  zone_id: string;
  type: string;
  name: string;
  content: string;
  ttl: number;
  proxied: boolean;
}

export interface FakeCloudflare {
  baseUrl: string;
  records: DnsRecord[];
  /** Method and path of every request that changed something. */
  changes: string[];
  /** Answer this many next requests with 429 first. */
  rateLimitNext(count: number): void;
  rateLimited: number;
  close(): Promise<void>;
}

async function body(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return chunks.length > 0 ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
}

export async function startFakeCloudflare(token: string, zones: Record<string, string>): Promise<FakeCloudflare> {
  const records: DnsRecord[] = [];
  const changes: string[] = [];
  let limited = 0;
  let sequence = 0;
  const state = { rateLimited: 0 };
  const server = createServer((request, response) => {
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(JSON.stringify(payload));
    };
    const failure = (status: number, code: number, message: string, headers: Record<string, string> = {}) =>
      send(status, { success: false, errors: [{ code, message }], messages: [], result: null }, headers);
    // Pages as Cloudflare does: `page` and `per_page`; a page past the end is empty (the SDK stops there).
    const page = (all: unknown[]) => {
      const query = new URL(request.url ?? '/', 'http://fake').searchParams;
      const number = Number(query.get('page') ?? 1);
      const size = Number(query.get('per_page') ?? 20);
      const result = all.slice((number - 1) * size, number * size);
      send(200, { success: true, errors: [], messages: [], result, result_info: { page: number, per_page: size, count: result.length, total_count: all.length, total_pages: Math.max(1, Math.ceil(all.length / size)) } });
    };
    void (async () => {
      if (limited > 0) {
        limited -= 1;
        state.rateLimited += 1;
        return failure(429, 971, 'Please wait and consider throttling your request speed', { 'retry-after': '0' });
      }
      if (request.headers.authorization !== `Bearer ${token}`) return failure(403, 10000, 'Authentication error');
      const url = new URL(request.url ?? '/', 'http://fake');
      const parts = url.pathname.replace(/^\/client\/v4/, '').split('/').filter(Boolean);
      if (parts[0] === 'zones' && parts.length === 1 && request.method === 'GET') {
        const name = url.searchParams.get('name');
        return page(Object.entries(zones).filter(([zoneName]) => !name || zoneName === name).map(([zoneName, id]) => ({ id, name: zoneName, status: 'active' })));
      }
      if (parts[0] !== 'zones' || parts[2] !== 'dns_records' || !Object.values(zones).includes(parts[1] ?? '')) return failure(404, 7003, 'Could not route to this path');
      const zoneId = parts[1]!;
      const recordId = parts[3];
      if (request.method === 'GET' && !recordId) {
        const type = url.searchParams.get('type');
        const name = url.searchParams.get('name.exact') ?? url.searchParams.get('name');
        return page(records.filter((record) => record.zone_id === zoneId && (!type || record.type === type) && (!name || record.name === name.toLowerCase())));
      }
      if (request.method === 'POST' && !recordId) {
        const input = await body(request);
        if (typeof input.content !== 'string' || typeof input.name !== 'string') return failure(400, 9000, 'DNS record content or name missing');
        const record: DnsRecord = { id: `rec${(sequence += 1)}`, zone_id: zoneId, type: String(input.type), name: input.name.toLowerCase(), content: input.content, ttl: Number(input.ttl ?? 1), proxied: Boolean(input.proxied) };
        records.push(record);
        changes.push(`POST ${record.name}`);
        return send(200, { success: true, errors: [], messages: [], result: record });
      }
      const record = records.find((candidate) => candidate.id === recordId && candidate.zone_id === zoneId);
      if (!record) return failure(404, 81044, 'Record does not exist.');
      if (request.method === 'PUT' || request.method === 'PATCH') {
        const input = await body(request);
        Object.assign(record, { content: input.content ?? record.content, ttl: Number(input.ttl ?? record.ttl), proxied: Boolean(input.proxied ?? record.proxied) });
        changes.push(`${request.method} ${record.name}`);
        return send(200, { success: true, errors: [], messages: [], result: record });
      }
      if (request.method === 'DELETE') {
        records.splice(records.indexOf(record), 1);
        changes.push(`DELETE ${record.name}`);
        return send(200, { success: true, errors: [], messages: [], result: { id: record.id } });
      }
      return failure(405, 10405, 'Method not allowed');
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/client/v4`,
    records,
    changes,
    rateLimitNext: (count) => {
      limited = count;
    },
    get rateLimited() {
      return state.rateLimited;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
