// Cloud VPS providers behind one interface: create a server, wait until it is
// active with a public address, destroy it. Hetzner Cloud and DigitalOcean over
// their REST APIs (a connection of type `hetzner` or `digitalocean` holds the
// API token as its secret; `config.baseUrl` only to point elsewhere, as tests
// do), and `ssh` for an existing host that is only adopted.
import type { ResolvedConnection } from '../security/connection-resolver.js';

export interface ServerRequest {
  name: string;
  /** Provider-specific: Hetzner server type (cx22) / DigitalOcean size slug (s-1vcpu-1gb). */
  size: string;
  /** Hetzner location (fsn1) / DigitalOcean region (fra1). */
  region: string;
  image: string;
  sshKeys: string[];
}

export interface ServerInfo {
  id: string;
  name: string;
  status: string;
  ipv4?: string;
}

export interface VpsProvider {
  readonly kind: string;
  create(request: ServerRequest): Promise<ServerInfo>;
  get(id: string): Promise<ServerInfo | undefined>;
  destroy(id: string): Promise<boolean>;
}

export class ProviderError extends Error {
  override name = 'ProviderError';
  constructor(
    message: string,
    /** A refusal that retrying cannot change (bad token, bad request). */
    readonly final: boolean,
  ) {
    super(message);
  }
}

const RATE_LIMIT_RETRIES = 4;

/** JSON over HTTP with the provider's token; 429 waits as told (Retry-After / RateLimit-Reset) and tries again. */
async function request(baseUrl: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  for (let attempt = 0; ; attempt += 1) {
    let response: Response;
    try {
      response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      throw new ProviderError(`the provider cannot be reached: ${(error as Error).message}`, false);
    }
    const text = await response.text();
    const json: unknown = text ? JSON.parse(text) : undefined;
    if (response.status === 429 && attempt < RATE_LIMIT_RETRIES) {
      const retryAfter = Number(response.headers.get('retry-after') ?? 1);
      await new Promise((resolve) => setTimeout(resolve, Math.min(Math.max(retryAfter, 0), 30) * 1_000));
      continue;
    }
    if (response.status >= 400 && !(method === 'GET' && response.status === 404) && !(method === 'DELETE' && response.status === 404)) {
      const detail = (json as { error?: { message?: string }; message?: string } | undefined)?.error?.message ?? (json as { message?: string } | undefined)?.message ?? text.slice(0, 200);
      throw new ProviderError(`${method} ${path} answered ${response.status}: ${detail}`, response.status < 500 && response.status !== 429);
    }
    return { status: response.status, json };
  }
}

class HetznerCloud implements VpsProvider {
  readonly kind = 'hetzner';
  constructor(
    private readonly token: string,
    private readonly baseUrl = 'https://api.hetzner.cloud/v1',
  ) {}

  private info(server: { id: number; name: string; status: string; public_net?: { ipv4?: { ip?: string } } }): ServerInfo {
    return { id: String(server.id), name: server.name, status: server.status === 'running' ? 'active' : server.status, ...(server.public_net?.ipv4?.ip ? { ipv4: server.public_net.ipv4.ip } : {}) };
  }

  async create(server: ServerRequest): Promise<ServerInfo> {
    const { json } = await request(this.baseUrl, this.token, 'POST', '/servers', { name: server.name, server_type: server.size, location: server.region, image: server.image, ssh_keys: server.sshKeys });
    return this.info((json as { server: Parameters<HetznerCloud['info']>[0] }).server);
  }

  async get(id: string): Promise<ServerInfo | undefined> {
    const { status, json } = await request(this.baseUrl, this.token, 'GET', `/servers/${encodeURIComponent(id)}`);
    return status === 404 ? undefined : this.info((json as { server: Parameters<HetznerCloud['info']>[0] }).server);
  }

  async destroy(id: string): Promise<boolean> {
    return (await request(this.baseUrl, this.token, 'DELETE', `/servers/${encodeURIComponent(id)}`)).status !== 404;
  }
}

class DigitalOcean implements VpsProvider {
  readonly kind = 'digitalocean';
  constructor(
    private readonly token: string,
    private readonly baseUrl = 'https://api.digitalocean.com/v2',
  ) {}

  private info(droplet: { id: number; name: string; status: string; networks?: { v4?: Array<{ ip_address: string; type: string }> } }): ServerInfo {
    const ipv4 = droplet.networks?.v4?.find((network) => network.type === 'public')?.ip_address;
    return { id: String(droplet.id), name: droplet.name, status: droplet.status, ...(ipv4 ? { ipv4 } : {}) };
  }

  async create(server: ServerRequest): Promise<ServerInfo> {
    const { json } = await request(this.baseUrl, this.token, 'POST', '/droplets', { name: server.name, size: server.size, region: server.region, image: server.image, ssh_keys: server.sshKeys });
    return this.info((json as { droplet: Parameters<DigitalOcean['info']>[0] }).droplet);
  }

  async get(id: string): Promise<ServerInfo | undefined> {
    const { status, json } = await request(this.baseUrl, this.token, 'GET', `/droplets/${encodeURIComponent(id)}`);
    return status === 404 ? undefined : this.info((json as { droplet: Parameters<DigitalOcean['info']>[0] }).droplet);
  }

  async destroy(id: string): Promise<boolean> {
    return (await request(this.baseUrl, this.token, 'DELETE', `/droplets/${encodeURIComponent(id)}`)).status !== 404;
  }
}

export function openProvider(connection: Pick<ResolvedConnection, 'name' | 'type' | 'config' | 'secret'>): VpsProvider {
  const baseUrl = (connection.config as { baseUrl?: unknown }).baseUrl;
  const custom = typeof baseUrl === 'string' && baseUrl ? baseUrl.replace(/\/$/, '') : undefined;
  if (connection.type !== 'hetzner' && connection.type !== 'digitalocean') throw new ProviderError(`connection "${connection.name}" is of type ${connection.type}, not hetzner or digitalocean`, true);
  if (!connection.secret) throw new ProviderError(`connection "${connection.name}" has no API token (its secret)`, true);
  return connection.type === 'hetzner' ? new HetznerCloud(connection.secret, custom) : new DigitalOcean(connection.secret, custom);
}

/** Polls until the server is active with an address. */
export async function waitUntilActive(provider: VpsProvider, id: string, options: { timeoutMs: number; intervalMs?: number; signal?: AbortSignal; onStatus?: (status: string) => void }): Promise<ServerInfo> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    options.signal?.throwIfAborted();
    const server = await provider.get(id);
    if (!server) throw new ProviderError(`server ${id} disappeared while starting`, true);
    options.onStatus?.(server.status);
    if (server.status === 'active' && server.ipv4) return server;
    if (Date.now() > deadline) throw new ProviderError(`server ${id} was not active in time (last status ${server.status})`, false);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 2_000));
  }
}
