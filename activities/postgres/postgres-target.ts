// A PostgreSQL database reached through a `postgres` connection: host, port,
// database, user (and sslmode) in its config, the password as its sealed
// secret. The password reaches libpq's tools through a password file (mode
// 0600, in a private folder removed afterwards): never their arguments, where
// every local user can read it in /proc, nor their environment.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { ResolvedConnection } from '../../security/connection-resolver.js';
import { giveToActionUser, withPrivateFolder, type ActionProcessPolicy } from '../shell/action-sandbox.js';

export class PostgresTargetError extends Error {
  override name = 'PostgresTargetError';
}

const postgresConfigSchema = z.object({
  host: z.string().min(1),
  port: z.coerce.number().int().min(1).max(65_535).default(5432),
  database: z.string().min(1),
  user: z.string().min(1),
  sslmode: z.enum(['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']).optional(),
});

export interface PostgresTarget {
  host: string;
  port: number;
  database: string;
  user: string;
  sslmode?: string;
  /** Absent for a server that trusts the worker (peer or trust authentication). */
  password?: string;
}

/** Reads a `postgres` connection; a misconfigured one throws PostgresTargetError (never with the password in it). */
export function postgresTargetFrom(connection: ResolvedConnection): PostgresTarget {
  if (connection.type !== 'postgres') throw new PostgresTargetError(`connection ${connection.name} is of type ${connection.type}, not postgres`);
  const parsed = postgresConfigSchema.safeParse(connection.config);
  if (!parsed.success) {
    throw new PostgresTargetError(`connection ${connection.name}: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  }
  const password = connection.secret;
  if (password !== undefined && /[\r\n]/.test(password)) throw new PostgresTargetError(`connection ${connection.name}: the password holds a line break, which a password file cannot carry`);
  return { ...parsed.data, ...(password ? { password } : {}) };
}

/** One field of a password file line (`:` and `\` are escaped). */
function passFileField(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll(':', '\\:');
}

/** What libpq's tools need to reach the target, without the password in it. */
export interface PostgresSession {
  /** The environment of pg_dump, psql and pg_restore: PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSFILE. */
  env: Record<string, string>;
  /** A private folder (the tools' home) that is removed afterwards. */
  folder: string;
}

/** Writes the password file into a private folder for the duration of `work`; the folder is always removed. */
export async function withPostgresSession<Result>(target: PostgresTarget, policy: ActionProcessPolicy, work: (session: PostgresSession) => Promise<Result>): Promise<Result> {
  return withPrivateFolder(policy, 'jarvis-pg-', async (folder) => {
    const env: Record<string, string> = {
      PGHOST: target.host,
      PGPORT: String(target.port),
      PGUSER: target.user,
      PGDATABASE: target.database,
      PGCONNECT_TIMEOUT: '30',
      PGAPPNAME: 'jarvis',
      ...(target.sslmode ? { PGSSLMODE: target.sslmode } : {}),
    };
    if (target.password !== undefined) {
      const passFile = path.join(folder, 'pgpass');
      // A socket folder is matched as `localhost`; any database, for the scratch database the verification restores into.
      const host = target.host.startsWith('/') ? 'localhost' : target.host;
      const line = [host, String(target.port), '*', target.user, target.password].map(passFileField).join(':');
      await writeFile(passFile, `${line}\n`, { mode: 0o600 });
      await giveToActionUser(policy, passFile);
      env.PGPASSFILE = passFile;
    }
    return work({ env, folder });
  });
}
