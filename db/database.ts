// Opens Jarvis's database: DATABASE_URL when set, otherwise the embedded
// PGlite under the data directory; migrations are applied before use.
import { PrismaPg } from '@prisma/adapter-pg';
import path from 'node:path';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { PrismaClient } from './generated/client.js';
import { migrate } from './migrator.js';
import { reportIdleConnectionError } from './pool-errors.js';

export type Database = PrismaClient;

export interface OpenDatabaseOptions {
  databaseUrl?: string;
  dataDir: string;
  log?(line: string): void;
}

export interface OpenedDatabase {
  prisma: Database;
  url: string;
  embedded: boolean;
  close(): Promise<void>;
}

export function createPrismaClient(url: string): Database {
  return new PrismaClient({
    adapter: new PrismaPg({ connectionString: url }, { onPoolError: reportIdleConnectionError, onConnectionError: reportIdleConnectionError }),
  });
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<OpenedDatabase> {
  const embedded = options.databaseUrl ? undefined : await startEmbeddedPostgres({ dataDir: path.join(options.dataDir, 'pglite') });
  const url = options.databaseUrl ?? embedded!.url;
  try {
    const applied = await migrate(url, options.log);
    if (applied.length > 0) options.log?.(`applied ${applied.length} migration(s)`);
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
  const prisma = createPrismaClient(url);
  return {
    prisma,
    url,
    embedded: Boolean(embedded),
    async close() {
      await prisma.$disconnect();
      await embedded?.stop();
    },
  };
}
