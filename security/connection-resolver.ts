// How activities reach a connection by name in their run's environment, with
// its credentials unsealed in memory only (never logged, never returned).
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

export interface ConnectionResolver {
  resolve(environment: string, name: string): Promise<ResolvedConnection | undefined>;
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
}
