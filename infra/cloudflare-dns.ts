// DNS records on Cloudflare through its official SDK. The connection (type
// `cloudflare`) holds the API token as its secret; `config.baseUrl` points
// elsewhere than api.cloudflare.com (tests use a local server speaking the API).
// Upserts are idempotent: a record that already says the right thing is left alone.
import Cloudflare from 'cloudflare';
import type { ResolvedConnection } from '../security/connection-resolver.js';

export class DnsError extends Error {
  override name = 'DnsError';
}

export function openCloudflare(connection: Pick<ResolvedConnection, 'name' | 'type' | 'config' | 'secret'>): Cloudflare {
  if (connection.type !== 'cloudflare') throw new DnsError(`connection "${connection.name}" is of type ${connection.type}, not cloudflare`);
  if (!connection.secret) throw new DnsError(`connection "${connection.name}" has no API token (its secret)`);
  const baseUrl = (connection.config as { baseUrl?: unknown }).baseUrl;
  return new Cloudflare({ apiToken: connection.secret, ...(typeof baseUrl === 'string' && baseUrl ? { baseURL: baseUrl } : {}), maxRetries: 4, timeout: 30_000 });
}

export type RecordType = 'A' | 'AAAA' | 'CNAME' | 'TXT';

export interface DnsRecordRequest {
  zone: string;
  /** `@` for the zone apex, a label (`www`) or a full name. */
  name: string;
  type: RecordType;
  content: string;
  ttl: number;
  proxied: boolean;
}

function fullName(zone: string, name: string): string {
  if (name === '@' || name === zone) return zone;
  return name.endsWith(`.${zone}`) ? name : `${name}.${zone}`;
}

async function zoneId(client: Cloudflare, zone: string): Promise<string> {
  for await (const candidate of client.zones.list({ name: zone })) if (candidate.name === zone) return candidate.id;
  throw new DnsError(`no zone "${zone}" is visible to this API token`);
}

async function recordsNamed(client: Cloudflare, zone_id: string, type: RecordType, name: string) {
  const found = [];
  for await (const record of client.dns.records.list({ zone_id, type, name: { exact: name } })) found.push(record);
  return found;
}

export async function upsertRecord(client: Cloudflare, request: DnsRecordRequest): Promise<{ action: 'created' | 'updated' | 'unchanged'; id: string; name: string }> {
  const zone_id = await zoneId(client, request.zone);
  const name = fullName(request.zone, request.name);
  const proxiable = request.type !== 'TXT';
  const wanted = { type: request.type, name, content: request.content, ttl: request.ttl, ...(proxiable ? { proxied: request.proxied } : {}) };
  const [existing] = await recordsNamed(client, zone_id, request.type, name);
  if (!existing) {
    const created = await client.dns.records.create({ zone_id, ...wanted } as Parameters<Cloudflare['dns']['records']['create']>[0]);
    return { action: 'created', id: created.id, name };
  }
  const same = existing.content === request.content && existing.ttl === request.ttl && (!proxiable || Boolean(existing.proxied) === request.proxied);
  if (same) return { action: 'unchanged', id: existing.id, name };
  const updated = await client.dns.records.update(existing.id, { zone_id, ...wanted } as Parameters<Cloudflare['dns']['records']['update']>[1]);
  return { action: 'updated', id: updated.id, name };
}

export async function deleteRecords(client: Cloudflare, request: Pick<DnsRecordRequest, 'zone' | 'name' | 'type'>): Promise<{ deleted: number; name: string }> {
  const zone_id = await zoneId(client, request.zone);
  const name = fullName(request.zone, request.name);
  const existing = await recordsNamed(client, zone_id, request.type, name);
  for (const record of existing) await client.dns.records.delete(record.id, { zone_id });
  return { deleted: existing.length, name };
}
