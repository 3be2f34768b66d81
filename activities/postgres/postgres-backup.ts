import { ApplicationFailure } from '@temporalio/activity';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { defineAction, type ActionContext } from '../action.js';
import { runActionProcess } from '../shell/action-process.js';
import { tailText } from '../shell/run-process.js';

const COUNT_TABLES_SQL =
  "select count(*) from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema')";

/** A connection URL with its password removed, safe to show in logs and errors. */
export function redactDatabaseUrl(url: URL): string {
  const copy = new URL(url.toString());
  if (copy.password) copy.password = '***';
  return copy.toString();
}

async function runPostgresTool(context: ActionContext, command: string, args: string[], what: string): Promise<string> {
  const result = await runActionProcess(context, { command, args }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw ApplicationFailure.nonRetryable(`${command} is not installed on this worker`, 'CommandNotFound');
    throw error;
  });
  if (result.exitCode !== 0) {
    throw ApplicationFailure.retryable(`${what} failed: ${tailText(result.lines, 'stderr', 500)}`, 'PostgresBackupFailed');
  }
  return tailText(result.lines, 'stdout');
}

function withDatabase(url: URL, database: string): string {
  const copy = new URL(url.toString());
  copy.pathname = `/${database}`;
  return copy.toString();
}

function timestampForFile(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

export const postgresBackup = defineAction({
  id: 'postgres.backup',
  title: 'Back up a PostgreSQL database',
  description:
    'Dumps a database with pg_dump (custom format) into a folder, proves the dump restores by loading it into a scratch database and comparing table counts, then keeps only the newest N dumps.',
  risk: 'medium',
  input: z
    .object({
      databaseUrl: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// connection URL'),
      directory: z.string().min(1),
      keep: z.number().int().min(1).default(7),
      verify: z.boolean().default(true),
    })
    .strict(),
  output: z.object({
    file: z.string(),
    bytes: z.number(),
    tables: z.number(),
    verified: z.boolean(),
    removed: z.array(z.string()),
  }),
  defaults: {
    timeout: '2h',
    heartbeatTimeout: '30s',
    retry: { maxAttempts: 2, initialInterval: '30s', backoff: 2, maxInterval: '5m' },
  },
  create: () => async (args, context) => {
    const url = new URL(args.databaseUrl);
    const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres';
    const prefix = `${database}-`;
    await mkdir(args.directory, { recursive: true });
    const file = path.resolve(args.directory, `${prefix}${timestampForFile(new Date())}.dump`);
    const partial = `${file}.partial`;
    context.log('system', `dumping ${redactDatabaseUrl(url)} to ${file}`);
    try {
      await runPostgresTool(context, 'pg_dump', ['--format=custom', `--file=${partial}`, `--dbname=${url.toString()}`], 'pg_dump');
      // Only a complete dump gets its final name, so a crash never leaves a file that looks valid.
      await rename(partial, file);
    } finally {
      await rm(partial, { force: true });
    }
    const bytes = (await stat(file)).size;
    const tables = Number((await runPostgresTool(context, 'psql', ['-tAc', COUNT_TABLES_SQL, url.toString()], 'counting tables')).trim());

    let verified = false;
    if (args.verify) {
      const scratch = `jarvis_verify_${randomBytes(4).toString('hex')}`;
      context.log('system', `verifying the dump by restoring it into scratch database ${scratch}`);
      await runPostgresTool(context, 'psql', ['-tAc', `create database ${scratch}`, url.toString()], 'creating the scratch database');
      try {
        const scratchUrl = withDatabase(url, scratch);
        await runPostgresTool(context, 'pg_restore', ['--no-owner', '--exit-on-error', `--dbname=${scratchUrl}`, file], 'pg_restore');
        const restored = Number((await runPostgresTool(context, 'psql', ['-tAc', COUNT_TABLES_SQL, scratchUrl], 'counting restored tables')).trim());
        if (restored !== tables) {
          throw ApplicationFailure.nonRetryable(`the dump restored ${restored} tables, the database has ${tables}`, 'BackupVerificationFailed');
        }
        verified = true;
        context.log('system', `verified: ${restored} tables restored`);
      } finally {
        await runPostgresTool(context, 'psql', ['-tAc', `drop database if exists ${scratch}`, url.toString()], 'dropping the scratch database');
      }
    }

    const dumps = (await readdir(args.directory)).filter((name) => name.startsWith(prefix) && name.endsWith('.dump')).sort();
    const removed = dumps.slice(0, Math.max(0, dumps.length - args.keep));
    for (const name of removed) await rm(path.join(args.directory, name));
    if (removed.length > 0) context.log('system', `removed ${removed.length} older dump(s)`);
    return { file, bytes, tables, verified, removed };
  },
});
