// The current generation of each environment's workflow-payload key, from
// the database, cached briefly: a worker writes node activities with the key
// the environment's agents hold now.
import type pg from 'pg';
import type { KeyGenerationSource } from '../temporal/payload-keys.js';


export class PayloadKeyGenerations implements KeyGenerationSource {
  private readonly cache = new Map<string, { generation: number; until: number }>();

  /** `cacheMs`: how long an answer is reused (a worker's encoding need not ask for every payload). */
  constructor(
    private readonly pool: pg.Pool,
    private readonly cacheMs = 5_000,
  ) {}

  async current(environment: string): Promise<number> {
    const cached = this.cache.get(environment);
    if (cached && cached.until > Date.now()) return cached.generation;
    const { rows } = await this.pool.query<{ generation: number }>('SELECT payload_key_generation AS generation FROM environments WHERE name = $1', [environment]);
    const generation = rows[0]?.generation ?? 0;
    this.cache.set(environment, { generation, until: Date.now() + this.cacheMs });
    return generation;
  }
}
