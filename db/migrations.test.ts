import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createServerDatabase } from '../test/databases.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';
import { migrate, readMigrations } from './migrator.js';
import { openDatabase } from './database.js';
import { expectedColumns } from './prisma-schema.js';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function freshServerDatabase(): Promise<string> {
  const database = await createServerDatabase();
  cleanups.push(() => database.drop());
  return database.url;
}

async function embeddedDatabase(): Promise<string> {
  const embedded: EmbeddedPostgres = await startEmbeddedPostgres();
  cleanups.push(() => embedded.stop());
  return embedded.url;
}

async function actualColumns(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<{ table_name: string; column_name: string; data_type: string; is_nullable: string }>(
      `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
       WHERE table_schema = 'public' AND table_name <> '_prisma_migrations' ORDER BY table_name, column_name`,
    );
    return result.rows.map((row) => ({ table: row.table_name, column: row.column_name, dataType: row.data_type, nullable: row.is_nullable === 'YES' }));
  } finally {
    await client.end();
  }
}

const byName = (a: { table: string; column: string }, b: { table: string; column: string }) =>
  `${a.table}.${a.column}`.localeCompare(`${b.table}.${b.column}`);

describe.each([
  ['PostgreSQL with pgvector', freshServerDatabase],
  ['embedded PGlite', embeddedDatabase],
])('migrations on %s', (_name, createDatabase) => {
  it('produce exactly the tables and columns of schema.prisma, recorded as Prisma records them', async () => {
    const url = await createDatabase();
    expect(await migrate(url)).toEqual((await readMigrations()).map((migration) => migration.name));
    expect(await migrate(url)).toEqual([]);
    expect((await actualColumns(url)).sort(byName)).toEqual(expectedColumns().sort(byName));

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const recorded = await client.query('SELECT migration_name, checksum, finished_at, applied_steps_count FROM "_prisma_migrations"');
    expect(recorded.rows).toHaveLength((await readMigrations()).length);
    expect(recorded.rows[0]).toMatchObject({ applied_steps_count: 1, checksum: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const nearest = await client.query(`SELECT '[1,2,3]'::vector <-> '[1,2,5]'::vector AS distance`);
    expect(nearest.rows[0].distance).toBe(2);
    await client.end();
  });

  it('serve Prisma through the pg driver adapter', async () => {
    const opened = await openDatabase({ databaseUrl: await createDatabase(), dataDir: '/nonexistent' });
    try {
      const environment = await opened.prisma.environment.create({ data: { name: 'prod' } });
      const user = await opened.prisma.user.create({ data: { email: 'ops@example.org', name: 'Ops', passwordHash: 'argon2id$...' } });
      await opened.prisma.roleGrant.create({ data: { userId: user.id, environmentId: environment.id, role: 'approver' } });
      const found = await opened.prisma.user.findUniqueOrThrow({ where: { email: 'ops@example.org' }, include: { grants: { include: { environment: true } } } });
      expect(found.grants.map((grant) => [grant.environment.name, grant.role])).toEqual([['prod', 'approver']]);
      await expect(opened.prisma.user.create({ data: { email: 'ops@example.org', name: 'Again', passwordHash: 'x' } })).rejects.toThrow(/Unique constraint/);
    } finally {
      await opened.close();
    }
  });
});

describe('the migrator', () => {
  it('refuses a migration edited after it was applied', async () => {
    const url = await embeddedDatabase();
    await migrate(url);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`UPDATE "_prisma_migrations" SET checksum = repeat('0', 64)`);
    await client.end();
    await expect(migrate(url)).rejects.toThrow(/was changed after it was applied/);
  });
});
