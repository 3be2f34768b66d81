// Backs up a database of a `postgres` connection with pg_dump, proves the
// dump restores, and keeps the newest N. The password goes to the tools in a
// password file only (postgres-target.ts), and is scrubbed from whatever they
// print, just in case.
import { ApplicationFailure } from '@temporalio/activity';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { redact } from '../../manifest/redact.js';
import { defineAction, type ActionContext, type ActionDependencies } from '../action.js';
import { publishedArtifactSchema, publishOwnFile } from '../artifact-publishing.js';
import { openConnection } from '../connections.js';
import { runActionProcess } from '../shell/action-process.js';
import { tailText } from '../shell/run-process.js';
import { PostgresTargetError, postgresTargetFrom, withPostgresSession, type PostgresSession } from './postgres-target.js';

const COUNT_TABLES_SQL =
  "select count(*) from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema')";

/** Runs pg_dump, psql or pg_restore against the session's server; `--no-password`: a missing password fails instead of prompting. */
async function runPostgresTool(context: ActionContext, session: PostgresSession, command: string, args: string[], what: string, env: Record<string, string> = {}): Promise<string> {
  const result = await runActionProcess(context, { command, args: ['--no-password', ...args], env: { ...session.env, ...env }, home: session.folder }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw ApplicationFailure.nonRetryable(`${command} is not installed on this worker`, 'CommandNotFound');
    throw error;
  });
  if (result.exitCode !== 0) {
    throw ApplicationFailure.retryable(`${what} failed: ${tailText(result.lines, 'stderr', 500)}`, 'PostgresBackupFailed');
  }
  return tailText(result.lines, 'stdout');
}

function timestampForFile(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

export const postgresBackup = defineAction({
  id: 'postgres.backup',
  title: 'Back up a PostgreSQL database',
  description:
    "Dumps the database of a `postgres` connection with pg_dump (custom format) into a folder, proves the dump restores by loading it into a scratch database and comparing table counts, publishes the dump as an artifact of the run, then keeps only the newest N dumps. The connection's password reaches the tools through a password file only.",
  risk: 'medium',
  input: z
    .object({
      connection: z.string().min(1).describe('A `postgres` connection: config {host, port, database, user, sslmode}, its secret the password'),
      directory: z.string().min(1),
      keep: z.number().int().min(1).default(7),
      verify: z.boolean().default(true),
      artifact: z.boolean().default(true).describe('Publish the dump as an artifact of the run (downloadable from the run page)'),
    })
    .strict(),
  output: z.object({
    file: z.string(),
    bytes: z.number(),
    tables: z.number(),
    verified: z.boolean(),
    removed: z.array(z.string()),
    artifact: publishedArtifactSchema.optional(),
  }),
  defaults: {
    timeout: '2h',
    heartbeatTimeout: '30s',
    retry: { maxAttempts: 2, initialInterval: '30s', backoff: 2, maxInterval: '5m' },
  },
  create: (deps) => async (args, context) => {
    const target = await openConnection(deps, context, args.connection, postgresTargetFrom, PostgresTargetError);
    // The tools never get the password on their command line; should one print it anyway, it is scrubbed before the log.
    const scrubbed: ActionContext = { ...context, log: (stream, text) => context.log(stream, redact(text, target.password ? [target.password] : [])) };
    try {
      return await withPostgresSession(target, context.processes, (session) => backUp(deps, scrubbed, session, target.database, args));
    } catch (error) {
      if (error instanceof Error && target.password) error.message = redact(error.message, [target.password]);
      throw error;
    }
  },
});

async function backUp(deps: ActionDependencies, context: ActionContext, session: PostgresSession, database: string, args: { directory: string; keep: number; verify: boolean; artifact: boolean }) {
  const prefix = `${database.replace(/[^A-Za-z0-9_.-]/g, '_')}-`;
  await mkdir(args.directory, { recursive: true });
  const file = path.resolve(args.directory, `${prefix}${timestampForFile(new Date())}.dump`);
  const partial = `${file}.partial`;
  context.log('system', `dumping ${database} on ${session.env.PGHOST}:${session.env.PGPORT} as ${session.env.PGUSER} to ${file}`);
  try {
    await runPostgresTool(context, session, 'pg_dump', ['--format=custom', `--file=${partial}`], 'pg_dump');
    // Only a complete dump gets its final name, so a crash never leaves a file that looks valid.
    await rename(partial, file);
  } finally {
    await rm(partial, { force: true });
  }
  const bytes = (await stat(file)).size;
  const tables = Number((await runPostgresTool(context, session, 'psql', ['-X', '-tAc', COUNT_TABLES_SQL], 'counting tables')).trim());

  let verified = false;
  if (args.verify) {
    const scratch = `jarvis_verify_${randomBytes(4).toString('hex')}`;
    context.log('system', `verifying the dump by restoring it into scratch database ${scratch}`);
    await runPostgresTool(context, session, 'psql', ['-X', '-tAc', `create database ${scratch}`], 'creating the scratch database');
    try {
      await runPostgresTool(context, session, 'pg_restore', ['--no-owner', '--exit-on-error', `--dbname=${scratch}`, file], 'pg_restore');
      const restored = Number((await runPostgresTool(context, session, 'psql', ['-X', '-tAc', COUNT_TABLES_SQL], 'counting restored tables', { PGDATABASE: scratch })).trim());
      if (restored !== tables) {
        throw ApplicationFailure.nonRetryable(`the dump restored ${restored} tables, the database has ${tables}`, 'BackupVerificationFailed');
      }
      verified = true;
      context.log('system', `verified: ${restored} tables restored`);
    } finally {
      await runPostgresTool(context, session, 'psql', ['-X', '-tAc', `drop database if exists ${scratch}`], 'dropping the scratch database');
    }
  }

  const artifact = args.artifact ? await publishOwnFile(deps, context, file, path.basename(file), 'application/octet-stream') : undefined;

  const dumps = (await readdir(args.directory)).filter((name) => name.startsWith(prefix) && name.endsWith('.dump')).sort();
  const removed = dumps.slice(0, Math.max(0, dumps.length - args.keep));
  for (const name of removed) await rm(path.join(args.directory, name));
  if (removed.length > 0) context.log('system', `removed ${removed.length} older dump(s)`);
  return { file, bytes, tables, verified, removed, ...(artifact ? { artifact } : {}) };
}
