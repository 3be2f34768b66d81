// A machine reached over SSH: a connection of type `ssh` holds its address,
// port and login user in its config and the private key as its sealed
// secret. The key only ever exists on disk in a private temporary folder for
// the duration of one action, and is removed afterwards.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import type { ResolvedConnection } from '../security/connection-resolver.js';

const execFileAsync = promisify(execFile);

export class SshTargetError extends Error {
  override name = 'SshTargetError';
}

const sshConfigSchema = z.object({
  host: z.string().min(1).optional(),
  port: z.coerce.number().int().min(1).max(65_535).default(22),
  user: z
    .string()
    .regex(/^[a-z_][a-z0-9_-]*$/, 'a login name')
    .default('root'),
});

export interface SshTarget {
  /** Address or name; empty for a connection kept for its key alone (a cloud server's address comes from its creation). */
  host: string;
  port: number;
  user: string;
  privateKey: string;
}

/** Reads an `ssh` connection; `host` overrides the connection's address (a freshly created cloud server). */
export function sshTargetFrom(connection: ResolvedConnection, host?: string): SshTarget {
  if (connection.type !== 'ssh') throw new SshTargetError(`connection ${connection.name} is of type ${connection.type}, not ssh`);
  const parsed = sshConfigSchema.safeParse(connection.config);
  if (!parsed.success) {
    throw new SshTargetError(`connection ${connection.name}: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  }
  const address = host || parsed.data.host;
  if (!address) throw new SshTargetError(`connection ${connection.name} has no host and the step gave none`);
  if (!connection.secret?.includes('PRIVATE KEY')) throw new SshTargetError(`connection ${connection.name} has no private key as its secret`);
  return {
    host: address,
    port: parsed.data.port,
    user: parsed.data.user,
    privateKey: connection.secret,
  };
}

export interface SshSession {
  keyFile: string;
  /** The public half of the key, in authorized_keys form (for the deploy user). */
  publicKey: string;
  /** A private folder for other files of the same action (an inventory). */
  folder: string;
}

/** Writes the key to a private folder, hands it to `work`, and always removes the folder. */
export async function withSshKey<Result>(target: SshTarget, work: (session: SshSession) => Promise<Result>): Promise<Result> {
  const folder = await mkdtemp(path.join(tmpdir(), 'jarvis-ssh-'));
  try {
    const keyFile = path.join(folder, 'id');
    await writeFile(keyFile, target.privateKey.endsWith('\n') ? target.privateKey : `${target.privateKey}\n`, { mode: 0o600 });
    const publicKey = await execFileAsync('ssh-keygen', ['-y', '-f', keyFile]).then(
      ({ stdout }) => stdout.trim(),
      () => {
        throw new SshTargetError("the connection's private key cannot be read (is it an unencrypted OpenSSH or PEM key?)");
      },
    );
    return await work({ keyFile, publicKey, folder });
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/** Options that keep ssh non-interactive: no password prompts, no known_hosts writes, bounded connect time. */
export function sshOptions(keyFile: string, connectTimeoutSeconds = 10): string[] {
  return [
    '-i',
    keyFile,
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'LogLevel=ERROR',
    '-o',
    `ConnectTimeout=${connectTimeoutSeconds}`,
  ];
}

/** The arguments of `ssh` that run `command` on the target as `user`. */
export function sshCommandArgs(target: SshTarget, user: string, keyFile: string, command: string): string[] {
  return [...sshOptions(keyFile), '-p', String(target.port), `${user}@${target.host}`, command];
}
