// How activities reach a connection by name in their run's environment, with
// its credentials unsealed in memory only (never logged, never returned), and
// the SSH host keys pinned for its addresses (trust on first use).
import type pg from 'pg';
import type { CredentialsCipher } from './credentials-cipher.js';

export interface ResolvedConnection {
  id: string;
  name: string;
  type: string;
  environment: string;
  config: Record<string, unknown>;
  secret?: string;
}

/** The SSH host key trusted for one address (`host:port`) of a connection. */
export interface PinnedHostKey {
  address: string;
  /** `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`, ... */
  type: string;
  /** The key blob, base64, as in known_hosts. */
  publicKey: string;
  /** `SHA256:...`, as `ssh-keygen -l` prints it. */
  fingerprint: string;
  pinnedAt: string;
  /** Who pinned it: the run and step that connected first. */
  pinnedBy: string | null;
}

/** The host keys of one connection: the first key seen for an address is kept; later ones must match it. */
export interface HostKeyPins {
  pinned(address: string): Promise<PinnedHostKey | undefined>;
  /** Pins `key` unless a key is pinned already; answers the key pinned afterwards (an earlier one wins). */
  pin(address: string, key: Pick<PinnedHostKey, 'type' | 'publicKey' | 'fingerprint'>, pinnedBy: string): Promise<PinnedHostKey>;
}

export interface ConnectionResolver {
  resolve(environment: string, name: string): Promise<ResolvedConnection | undefined>;
  hostKeys(connectionId: string): HostKeyPins;
}

interface HostKeyRow {
  address: string;
  key_type: string;
  public_key: string;
  fingerprint: string;
  pinned_at: Date;
  pinned_by: string | null;
}

function pinnedHostKey(row: HostKeyRow): PinnedHostKey {
  return { address: row.address, type: row.key_type, publicKey: row.public_key, fingerprint: row.fingerprint, pinnedAt: row.pinned_at.toISOString(), pinnedBy: row.pinned_by };
}

export class DatabaseConnectionResolver implements ConnectionResolver {
  constructor(
    private readonly pool: pg.Pool,
    private readonly cipher: CredentialsCipher,
  ) {}

  async resolve(environment: string, name: string): Promise<ResolvedConnection | undefined> {
    const { rows } = await this.pool.query<{ id: string; type: string; config: Record<string, unknown>; secret_ciphertext: string | null }>(
      `SELECT c.id, c.type, c.config, c.secret_ciphertext FROM connections c JOIN environments e ON e.id = c.environment_id
       WHERE e.name = $1 AND c.name = $2`,
      [environment, name],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      id: row.id,
      name,
      type: row.type,
      environment,
      config: row.config,
      ...(row.secret_ciphertext ? { secret: this.cipher.open(row.secret_ciphertext, `connection:${row.id}`) } : {}),
    };
  }

  hostKeys(connectionId: string): HostKeyPins {
    const select = async (address: string) => {
      const { rows } = await this.pool.query<HostKeyRow>(
        'SELECT address, key_type, public_key, fingerprint, pinned_at, pinned_by FROM ssh_host_keys WHERE connection_id = $1 AND address = $2',
        [connectionId, address],
      );
      return rows[0] ? pinnedHostKey(rows[0]) : undefined;
    };
    return {
      pinned: select,
      pin: async (address, key, pinnedBy) => {
        // Two steps meeting a new machine at once: the first insert wins, and the other compares with it.
        await this.pool.query(
          `INSERT INTO ssh_host_keys (connection_id, address, key_type, public_key, fingerprint, pinned_by) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (connection_id, address) DO NOTHING`,
          [connectionId, address, key.type, key.publicKey, key.fingerprint, pinnedBy],
        );
        const pinned = await select(address);
        if (!pinned) throw new Error(`the host key of ${address} could not be pinned (was the connection deleted?)`);
        return pinned;
      },
    };
  }
}
