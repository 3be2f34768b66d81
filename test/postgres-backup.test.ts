// The postgres-backup runbook against the real PostgreSQL server, with the
// database reached through a `postgres` connection whose password is its
// sealed secret. While pg_dump runs (held on a table lock the test takes),
// the test reads its /proc entries: the password is in neither its arguments
// nor its environment, only in the password file PGPASSFILE names (mode 0600,
// in a private folder that is gone after the run). Nor does it reach the
// run's history, outputs or log lines. (The test server trusts local
// connections, so the file proves it is used, not that the server asked.)
import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnv, PROJECT_ROOT } from '../config/env.js';
import { startApiForTests } from './api-harness.js';
import { createServerDatabase } from './databases.js';
import { scratchDir, writeManifests } from './files.js';

const suffix = randomBytes(4).toString('hex');
const ROLE = `backup_${suffix}`;
// `:` and `\` must be escaped in a password file; the rest is there to be found if it leaks.
const PASSWORD = `Pg:pass\\word-${suffix}-never-in-argv`;
const OPERATOR = { email: 'dba@example.org', password: 'backup password 123' };

let api: Awaited<ReturnType<typeof startApiForTests>>;
let database: Awaited<ReturnType<typeof createServerDatabase>>;
let databaseName: string;
let admin: pg.Client;

beforeAll(async () => {
  admin = new pg.Client({ connectionString: loadEnv().testDatabaseUrl });
  await admin.connect();
  await admin.query(`CREATE ROLE ${ROLE} LOGIN CREATEDB PASSWORD '${PASSWORD.replaceAll("'", "''")}'`);
  database = await createServerDatabase();
  databaseName = new URL(database.url).pathname.slice(1);
  await admin.query(`ALTER DATABASE ${databaseName} OWNER TO ${ROLE}`);
  const asRole = new URL(database.url);
  asRole.username = ROLE;
  const owner = new pg.Client({ connectionString: asRole.toString() });
  await owner.connect();
  await owner.query('CREATE TABLE orders (id int PRIMARY KEY, note text); CREATE TABLE customers (id int PRIMARY KEY, name text)');
  await owner.query("INSERT INTO orders SELECT n, 'order ' || n FROM generate_series(1, 500) AS n; INSERT INTO customers VALUES (1, 'ada')");
  await owner.end();

  const backupOnce = readFileSync(path.join(PROJECT_ROOT, 'runbooks', 'postgres-backup.yaml'), 'utf8')
    .replace('name: postgres-backup', 'name: postgres-backup-once')
    .replace('      keep: ${{ inputs.keep }}', '      keep: ${{ inputs.keep }}\n    retry: { maxAttempts: 1 }');
  api = await startApiForTests(
    writeManifests({ 'postgres-backup': readFileSync(path.join(PROJECT_ROOT, 'runbooks', 'postgres-backup.yaml'), 'utf8'), 'postgres-backup-once': backupOnce }),
    [{ ...OPERATOR, grants: [['dev', 'operator']] }],
  );
  const host = new URL(database.url);
  const config = { host: host.hostname, port: Number(host.port || 5432), database: databaseName, user: ROLE };
  await api.services.connections.create({ environment: 'dev', name: 'shop-db', type: 'postgres', config, secret: PASSWORD });
  await api.services.connections.create({ environment: 'dev', name: 'missing-db', type: 'postgres', config: { ...config, database: `${databaseName}_missing` }, secret: PASSWORD });
}, 120_000);

afterAll(async () => {
  await api?.stop();
  await database?.drop();
  await admin?.query(`DROP ROLE IF EXISTS ${ROLE}`).catch(() => undefined);
  await admin?.end();
});

async function start(runbook: string, inputs: Record<string, unknown>) {
  const { id } = await api.services.runs.startRun({ runbook, inputs, environment: 'dev', startedBy: OPERATOR.email });
  return id;
}

async function finished(id: string) {
  await api.temporal.workflow.getHandle(id).result().catch(() => undefined);
  return api.services.runs.showRun(id);
}

/** Everything a run left where people can read it: its details, history timeline, inputs as the API shows them, and log lines. */
async function everythingShownOf(id: string): Promise<string> {
  const token = await api.logIn(OPERATOR.email, OPERATOR.password);
  const inputs = await api.app.inject({ method: 'GET', url: `/runs/${id}/inputs`, headers: { authorization: `Bearer ${token}` } });
  const history = await api.app.inject({ method: 'GET', url: `/runs/${id}/history`, headers: { authorization: `Bearer ${token}` } });
  return JSON.stringify([await api.services.runs.showRun(id), await api.services.runs.timeline(id), inputs.body, history.body, await api.services.logStore.linesAfter(id, 0)]);
}

interface SeenProcess {
  pid: string;
  argv: string[];
  environ: string[];
}

/** The libpq tools running as this test's role right now, with their arguments and environment. */
async function postgresTools(): Promise<SeenProcess[]> {
  const seen: SeenProcess[] = [];
  for (const pid of (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry))) {
    try {
      const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
      if (!['pg_dump', 'psql', 'pg_restore'].includes(path.basename(argv[0] ?? ''))) continue;
      const environ = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0').filter(Boolean);
      if (environ.includes(`PGUSER=${ROLE}`)) seen.push({ pid, argv, environ });
    } catch {
      // The process ended while it was read.
    }
  }
  return seen;
}

describe('postgres-backup through a postgres connection', () => {
  it('hands pg_dump the password in a private password file only, never on its command line, in its environment or in the run', async () => {
    const directory = scratchDir();
    // pg_dump waits for this lock, so it is caught while it runs.
    const locker = new pg.Client({ connectionString: database.url });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE orders IN ACCESS EXCLUSIVE MODE');
    const id = await start('postgres-backup', { connection: 'shop-db', directory, keep: 3 });

    const seen: SeenProcess[] = [];
    let dump: SeenProcess | undefined;
    for (let tries = 0; !dump && tries < 600; tries += 1) {
      seen.push(...(await postgresTools()));
      dump = seen.find((process) => path.basename(process.argv[0] ?? '') === 'pg_dump');
      if (!dump) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(dump, 'pg_dump was never seen running').toBeDefined();
    const passFile = dump!.environ.find((variable) => variable.startsWith('PGPASSFILE='))?.slice('PGPASSFILE='.length);
    expect(passFile).toBeDefined();
    const folder = path.dirname(passFile!);
    expect(statSync(passFile!).mode & 0o777).toBe(0o600);
    expect(statSync(folder).mode & 0o777).toBe(0o700);
    expect(readFileSync(passFile!, 'utf8')).toBe(`127.0.0.1:5432:*:${ROLE}:${PASSWORD.replaceAll('\\', '\\\\').replaceAll(':', '\\:')}\n`);
    // Only what pg_dump needs: no variable of the worker (its database URL, its secret key) is passed on.
    expect(dump!.environ.map((variable) => variable.split('=')[0]).sort()).toEqual(
      expect.arrayContaining(['PGDATABASE', 'PGHOST', 'PGPASSFILE', 'PGPORT', 'PGUSER']),
    );
    expect(dump!.environ.some((variable) => /^(DATABASE_URL|JARVIS_)/.test(variable))).toBe(false);

    // The rest of the run (psql counting tables, the scratch restore) is watched as it goes.
    await locker.query('ROLLBACK');
    await locker.end();
    const run = finished(id);
    let done = false;
    void run.then(() => (done = true));
    while (!done) {
      seen.push(...(await postgresTools()));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const result = await run;
    expect(result.status, result.error).toBe('COMPLETED');

    expect(seen.length).toBeGreaterThan(0);
    for (const process of seen) {
      expect(process.argv.join(' ')).not.toContain(PASSWORD);
      expect(process.argv.join(' ')).not.toContain(suffix + '-never');
      expect(process.environ.join('\n')).not.toContain(suffix + '-never');
    }
    expect(existsSync(folder)).toBe(false);
    const shown = await everythingShownOf(id);
    expect(shown).toContain('verified: 2 tables restored');
    expect(shown).not.toContain(suffix + '-never');
  }, 120_000);

  it('dumps the connection’s database, proves the dump restores, and keeps only the newest dumps', async () => {
    const directory = scratchDir();
    const first = await finished(await start('postgres-backup', { connection: 'shop-db', directory, keep: 1 }));
    expect(first.status, first.error).toBe('COMPLETED');
    const firstOutput = first.progress?.steps[0]?.outputSummary ?? '';
    expect(firstOutput).toContain('"verified":true');
    expect(firstOutput).toContain('"tables":2');
    const [firstDump] = readdirSync(directory);
    expect(firstDump).toMatch(new RegExp(`^${databaseName}-\\d{8}T\\d{6}Z\\.dump$`));
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const second = await finished(await start('postgres-backup', { connection: 'shop-db', directory, keep: 1 }));
    expect(second.status, second.error).toBe('COMPLETED');
    expect(second.progress?.steps[0]?.outputSummary).toContain(`"removed":["${firstDump}"]`);
    expect(readdirSync(directory)).toHaveLength(1);
    expect(readdirSync(directory)).not.toContain(firstDump);
  }, 120_000);

  it('fails with the reason pg_dump gives, and without the password, when the database cannot be dumped', async () => {
    const failed = await finished(await start('postgres-backup-once', { connection: 'missing-db', directory: scratchDir() }));
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toMatch(/pg_dump failed: .*database "[a-z0-9_]+_missing" does not exist/s);
    expect(await everythingShownOf(failed.id)).not.toContain(suffix + '-never');
  }, 120_000);
});
