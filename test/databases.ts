// Databases for tests: a fresh database on the real PostgreSQL server (with
// pgvector), dropped when the suite ends.
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { loadEnv } from '../config/env.js';

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
