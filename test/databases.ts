// Databases for tests: a fresh database on the real PostgreSQL server (with
// pgvector), dropped when the suite ends.
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { loadEnv } from '../config/env.js';
import { migrate } from '../db/migrator.js';
import { reportIdleConnectionError } from '../db/pool-errors.js';

export async function createServerDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = loadEnv().testDatabaseUrl;
  const name = `jarvis_test_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/**
 * A migrated database for the tests of one file, with a pool on it: made before
 * they run, dropped after. Read `pool` and `url` inside tests (they exist once
 * the file's beforeAll has run).
 */
export function useMigratedDatabase(): { readonly pool: pg.Pool; readonly url: string } {
  let database: Awaited<ReturnType<typeof createServerDatabase>> | undefined;
  let pool: pg.Pool | undefined;
  beforeAll(async () => {
    database = await createServerDatabase();
    await migrate(database.url);
    pool = new pg.Pool({ connectionString: database.url });
    pool.on('error', reportIdleConnectionError);
  });
  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });
  return {
    get pool() {
      if (!pool) throw new Error('the test database is made in beforeAll');
      return pool;
    },
    get url() {
      if (!database) throw new Error('the test database is made in beforeAll');
      return database.url;
    },
  };
}
