// Trust on first use for SSH host keys: the first step that reaches an
// address of an `ssh` connection pins the key the machine presents (read with
// ssh-keyscan, before any login), and every ssh or ansible process afterwards
// checks the machine against that key alone (StrictHostKeyChecking=yes with a
// known_hosts file of one line). A different key is a man in the middle or a
// reinstalled machine: the step fails for good, naming both fingerprints.
import { createHash } from 'node:crypto';
import { runProcess } from '../activities/shell/run-process.js';
import type { PinnedHostKey } from '../security/connection-resolver.js';

/** The name ssh looks the pinned key up by (HostKeyAlias), whatever the address and port. */
export const PINNED_HOST_ALIAS = 'jarvis-pinned-host';

/** Key types in the order OpenSSH's client prefers them: the one pinned is the one ssh would negotiate. */
const PREFERRED_TYPES = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa'];

export type HostKey = Pick<PinnedHostKey, 'type' | 'publicKey' | 'fingerprint'>;

/** The machine presents another key than the one pinned: never retried. */
export class HostKeyMismatchError extends Error {
  override name = 'HostKeyMismatch';
}

/** Nothing answered SSH at the address (yet): worth another try. */
export class HostKeyUnavailableError extends Error {
  override name = 'HostKeyUnavailable';
}

/** `SHA256:<base64 without padding>` of a key blob, as `ssh-keygen -l` prints it. */
export function fingerprintOf(publicKey: string): string {
  return `SHA256:${createHash('sha256').update(Buffer.from(publicKey, 'base64')).digest('base64').replace(/=+$/, '')}`;
}

/** A key from a known_hosts or ssh-keyscan line's type and base64 blob, when the blob really is a key of that type. */
export function hostKeyFrom(type: string, publicKey: string): HostKey | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(publicKey)) return undefined;
  const blob = Buffer.from(publicKey, 'base64');
  // The blob starts with its own type name (SSH wire format: a 4-byte length, then the name).
  if (blob.length < 4 + type.length || blob.readUInt32BE(0) !== type.length || blob.subarray(4, 4 + type.length).toString('latin1') !== type) return undefined;
  return { type, publicKey, fingerprint: fingerprintOf(publicKey) };
}

/** The keys in ssh-keyscan's output (`host type base64` lines; `#` lines are comments). */
export function parseKeyscan(lines: string[]): HostKey[] {
  return lines.flatMap((line) => {
    const [, type, blob] = line.trim().split(/\s+/);
    if (line.startsWith('#') || !type || !blob) return [];
    const key = hostKeyFrom(type, blob);
    return key ? [key] : [];
  });
}

/** The key a client would settle on among those a machine offers. */
export function preferredHostKey(keys: HostKey[], type?: string): HostKey | undefined {
  const order = type ? [type, ...PREFERRED_TYPES] : PREFERRED_TYPES;
  for (const wanted of order) {
    const key = keys.find((candidate) => candidate.type === wanted);
    if (key) return key;
  }
  return keys[0];
}

/** Reads the host keys a machine presents, without logging in (ssh-keyscan). */
export async function scanHostKeys(host: string, port: number, timeoutSeconds = 10): Promise<HostKey[]> {
  const result = await runProcess({
    command: 'ssh-keyscan',
    args: ['-T', String(timeoutSeconds), '-t', 'ed25519,ecdsa,rsa', '-p', String(port), '--', host],
    timeoutMs: (timeoutSeconds + 5) * 1_000,
  });
  return parseKeyscan(result.lines.filter((line) => line.stream === 'stdout').map((line) => line.text));
}

/** The one line of a step's known_hosts file. */
export function knownHostsLine(key: Pick<HostKey, 'type' | 'publicKey'>): string {
  return `${PINNED_HOST_ALIAS} ${key.type} ${key.publicKey}\n`;
}

/** Options that make ssh accept the pinned key and nothing else. */
export function pinnedHostKeyOptions(knownHostsFile: string): string[] {
  return [
    'StrictHostKeyChecking=yes',
    `UserKnownHostsFile=${knownHostsFile}`,
    'GlobalKnownHostsFile=/dev/null',
    `HostKeyAlias=${PINNED_HOST_ALIAS}`,
    'CheckHostIP=no',
    'UpdateHostKeys=no',
    'VerifyHostKeyDNS=no',
  ].flatMap((option) => ['-o', option]);
}

/** Whether an ssh (or Ansible) output says the machine's key was refused. */
export function refusedHostKey(lines: Array<{ text: string }>): boolean {
  return lines.some((line) => line.text.includes('Host key verification failed') || line.text.includes('REMOTE HOST IDENTIFICATION HAS CHANGED'));
}

/** What an admin does when the change is expected. */
export function resetHint(connection: { id: string; name: string }): string {
  return `if the machine was reinstalled or its host keys were replaced on purpose, an admin forgets the pin of connection "${connection.name}" (PATCH /connections/${connection.id} {"hostKeys": null}) and the next step pins the key it meets`;
}

export function mismatchMessage(connection: { id: string; name: string }, pinned: PinnedHostKey, seen: HostKey | undefined): string {
  const seenText = seen ? `${seen.fingerprint} (${seen.type})` : 'no key of that type (or no answer)';
  return (
    `the SSH host key of ${pinned.address} is not the one pinned for connection "${connection.name}": ` +
    `expected ${pinned.fingerprint} (${pinned.type}, pinned ${pinned.pinnedAt}${pinned.pinnedBy ? ` by ${pinned.pinnedBy}` : ''}), seen ${seenText}. ` +
    `Nothing was run on it (a man in the middle would have been handed the session); ${resetHint(connection)}`
  );
}
