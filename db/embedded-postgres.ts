// The embedded default database: PGlite (PostgreSQL in WebAssembly) with
// pgvector, served over the Postgres wire protocol so `pg` and Prisma connect
// to it like to any server. Data is kept under the data directory.
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { mkdirSync } from 'node:fs';
import { freePort } from '../config/free-port.js';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

/** Starts PGlite on a folder (or in memory without one) and serves it on 127.0.0.1. */
export async function startEmbeddedPostgres(options: { dataDir?: string; port?: number } = {}): Promise<EmbeddedPostgres> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const db = await PGlite.create(options.dataDir ?? 'memory://', { extensions: { vector } });
  const port = options.port ?? (await freePort());
  // Without maxConnections a pg.Pool with several clients is cut off. The API, the worker's log
  // writer and the log listener each hold a few connections.
  const server = new PGLiteSocketServer({ db, port, host: '127.0.0.1', maxConnections: 64 });
  await server.start();
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres?sslmode=disable`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
