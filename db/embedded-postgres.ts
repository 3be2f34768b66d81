// The embedded default database: PGlite (PostgreSQL in WebAssembly) with
// pgvector, served over the Postgres wire protocol so `pg` and Prisma connect
// to it like to any server. Data is kept under the data directory.
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { EmbeddedWireServer } from './embedded-wire-server.js';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir?: string;
  port?: number;
  /** See EmbeddedWireServerOptions: how long one connection may keep the single backend while its client is silent. */
  holdTimeoutMs?: number;
  /** How long a connection may wait for its turn on the backend. */
  waitTimeoutMs?: number;
}

/**
 * Starts PGlite on a folder (or in memory without one) and serves it on 127.0.0.1.
 * Connections take turns on PGlite's single backend (see embedded-wire-server.ts).
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const db = await PGlite.create(options.dataDir ?? 'memory://', { extensions: { vector } });
  // A fresh password per start, known only to this process (it is in the URL it hands its own pools).
  const password = randomBytes(24).toString('hex');
  const server = await EmbeddedWireServer.start({
    db,
    password,
    host: '127.0.0.1',
    port: options.port ?? 0,
    ...(options.holdTimeoutMs ? { holdTimeoutMs: options.holdTimeoutMs } : {}),
    ...(options.waitTimeoutMs ? { waitTimeoutMs: options.waitTimeoutMs } : {}),
  });
  return {
    url: `postgresql://postgres:${password}@127.0.0.1:${server.port}/postgres?sslmode=disable`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
