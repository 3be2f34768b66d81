// A machine reached over SSH: a connection of type `ssh` holds its address,
// port and login user in its config and the private key as its sealed
// secret. The key only ever exists on disk in a private temporary folder for
// the duration of one action, and is removed afterwards. The machine's host
// key is pinned on the connection the first time a step reaches it, and
// checked by every ssh process after that (see ssh-host-keys.ts).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { giveToActionUser, withPrivateFolder, type ActionProcessPolicy } from '../activities/shell/action-sandbox.js';
import { runProcess } from '../activities/shell/run-process.js';
import type { HostKeyPins, PinnedHostKey, ResolvedConnection } from '../security/connection-resolver.js';
import {
  HostKeyMismatchError,
  HostKeyUnavailableError,
  knownHostsLine,
  mismatchMessage,
  pinnedHostKeyOptions,
  preferredHostKey,
  refusedHostKey,
  scanHostKeys,
} from './ssh-host-keys.js';

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
  /** The connection it came from: host keys are pinned on it. */
  connection: { id: string; name: string };
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
  if (address.startsWith('-')) throw new SshTargetError(`connection ${connection.name}: "${address}" is not a host`);
  if (!connection.secret?.includes('PRIVATE KEY')) throw new SshTargetError(`connection ${connection.name} has no private key as its secret`);
  return {
    connection: { id: connection.id, name: connection.name },
    host: address,
    port: parsed.data.port,
    user: parsed.data.user,
    privateKey: connection.secret,
  };
}

/** How a session pins host keys: where pins live, who pins, where to say so. */
export interface HostKeyTrust {
  pins: HostKeyPins;
  /** Recorded with a new pin (the run and step). */
  pinnedBy: string;
  log?(text: string): void;
}

export interface SshSession {
  keyFile: string;
  /** The known_hosts file holding the pinned key alone, once `trustHostKey` has run. */
  knownHostsFile: string;
  /** The public half of the key, in authorized_keys form (for the deploy user). */
  publicKey: string;
  /** A private folder for other files of the same action (an inventory), owned by the action user. */
  folder: string;
  /**
   * Writes the pinned host key to `knownHostsFile`, pinning the key the
   * machine presents first when none is pinned. Call before the first ssh
   * process; throws HostKeyUnavailableError while nothing answers.
   */
  trustHostKey(): Promise<PinnedHostKey>;
  /**
   * After a failed ssh (or Ansible) process: throws HostKeyMismatchError,
   * naming both fingerprints, when its output says it refused the machine's
   * key and the machine does present another key than the pinned one.
   */
  checkHostKeyRefusal(lines: Array<{ text: string }>): Promise<void>;
}

/** `host:port`, the address a host key is pinned for. */
export function addressOf(target: Pick<SshTarget, 'host' | 'port'>): string {
  return `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
}

/**
 * Writes the key to a private folder (the action user's), hands `work` a
 * session that pins or checks the machine's host key, and always removes the
 * folder.
 */
export async function withSshSession<Result>(
  target: SshTarget,
  trust: HostKeyTrust,
  policy: ActionProcessPolicy,
  work: (session: SshSession) => Promise<Result>,
): Promise<Result> {
  return withPrivateFolder(policy, 'jarvis-ssh-', async (folder) => {
    const keyFile = path.join(folder, 'id');
    await writeFile(keyFile, target.privateKey.endsWith('\n') ? target.privateKey : `${target.privateKey}\n`, { mode: 0o600 });
    await giveToActionUser(policy, keyFile);
    const derived = await runProcess({ command: 'ssh-keygen', args: ['-y', '-f', keyFile], timeoutMs: 10_000 });
    const publicKey = derived.lines.find((line) => line.stream === 'stdout')?.text.trim();
    if (derived.exitCode !== 0 || !publicKey) throw new SshTargetError("the connection's private key cannot be read (is it an unencrypted OpenSSH or PEM key?)");

    const knownHostsFile = path.join(folder, 'known_hosts');
    const address = addressOf(target);
    let trusted: PinnedHostKey | undefined;
    const session: SshSession = {
      keyFile,
      knownHostsFile,
      publicKey,
      folder,
      async trustHostKey() {
        if (trusted) return trusted;
        let pinned = await trust.pins.pinned(address);
        if (!pinned) {
          const seen = preferredHostKey(await scanHostKeys(target.host, target.port));
          if (!seen) throw new HostKeyUnavailableError(`${address} did not answer SSH (no host key could be read)`);
          pinned = await trust.pins.pin(address, seen, trust.pinnedBy);
          if (pinned.publicKey !== seen.publicKey) throw new HostKeyMismatchError(mismatchMessage(target.connection, pinned, seen));
          if (pinned.pinnedBy === trust.pinnedBy) trust.log?.(`pinned the SSH host key of ${address} for connection ${target.connection.name}: ${pinned.fingerprint} (${pinned.type}), trusted on first use`);
        }
        await writeFile(knownHostsFile, knownHostsLine(pinned), { mode: 0o600 });
        await giveToActionUser(policy, knownHostsFile);
        trusted = pinned;
        return pinned;
      },
      async checkHostKeyRefusal(lines) {
        if (!trusted || !refusedHostKey(lines)) return;
        const seen = preferredHostKey(await scanHostKeys(target.host, target.port).catch(() => []), trusted.type);
        // The pinned key again: the caller's own failure stands (ssh ran nothing either way).
        if (seen?.publicKey === trusted.publicKey) return;
        throw new HostKeyMismatchError(mismatchMessage(target.connection, trusted, seen));
      },
    };
    return work(session);
  });
}

/** Options that keep ssh non-interactive and bound to the pinned host key: no prompts, no known_hosts writes, bounded connect time. */
export function sshOptions(session: Pick<SshSession, 'keyFile' | 'knownHostsFile'>, connectTimeoutSeconds = 10): string[] {
  return [
    '-i',
    session.keyFile,
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    ...pinnedHostKeyOptions(session.knownHostsFile),
    '-o',
    'LogLevel=ERROR',
    '-o',
    `ConnectTimeout=${connectTimeoutSeconds}`,
  ];
}

/** The arguments of `ssh` that run `command` on the target as `user`. */
export function sshCommandArgs(target: Pick<SshTarget, 'host' | 'port'>, user: string, session: Pick<SshSession, 'keyFile' | 'knownHostsFile'>, command: string): string[] {
  return [...sshOptions(session), '-p', String(target.port), `${user}@${target.host}`, command];
}
