import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fingerprintOf, knownHostsLine, parseKeyscan, PINNED_HOST_ALIAS, preferredHostKey } from './ssh-host-keys.js';

/** A fresh key of `type` from ssh-keygen: its public line and the fingerprint ssh-keygen prints for it. */
function generated(type: 'ed25519' | 'rsa' | 'ecdsa') {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'jarvis-hostkey-')), 'key');
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', file]);
  const [keyType, blob] = readFileSync(`${file}.pub`, 'utf8').split(' ');
  const fingerprint = execFileSync('ssh-keygen', ['-lf', `${file}.pub`], { encoding: 'utf8' }).split(' ')[1];
  return { keyType: keyType!, blob: blob!, fingerprint: fingerprint! };
}

describe('SSH host keys', () => {
  it('fingerprints a key exactly as ssh-keygen does', () => {
    for (const type of ['ed25519', 'rsa', 'ecdsa'] as const) {
      const key = generated(type);
      expect(fingerprintOf(key.blob)).toBe(key.fingerprint);
    }
  });

  it('reads ssh-keyscan output, skipping comments and blobs that are not a key of the type they claim', () => {
    const ed = generated('ed25519');
    const rsa = generated('rsa');
    const keys = parseKeyscan([
      '# 10.0.0.5:22 SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u6',
      `10.0.0.5 ${rsa.keyType} ${rsa.blob}`,
      `10.0.0.5 ssh-ed25519 ${rsa.blob}`,
      '10.0.0.5 ssh-ed25519 not-base64!',
      `[10.0.0.5]:2222 ${ed.keyType} ${ed.blob}`,
    ]);
    expect(keys).toEqual([
      { type: 'ssh-rsa', publicKey: rsa.blob, fingerprint: rsa.fingerprint },
      { type: 'ssh-ed25519', publicKey: ed.blob, fingerprint: ed.fingerprint },
    ]);
  });

  it('pins the key type ssh would negotiate, and checks the pinned type first', () => {
    const ed = generated('ed25519');
    const rsa = generated('rsa');
    const keys = parseKeyscan([`h ${rsa.keyType} ${rsa.blob}`, `h ${ed.keyType} ${ed.blob}`]);
    expect(preferredHostKey(keys)?.type).toBe('ssh-ed25519');
    expect(preferredHostKey(keys, 'ssh-rsa')?.type).toBe('ssh-rsa');
    expect(preferredHostKey([])).toBeUndefined();
  });

  it('writes the pinned key as the one known_hosts line of the alias ssh looks it up by', () => {
    const ed = generated('ed25519');
    expect(knownHostsLine({ type: 'ssh-ed25519', publicKey: ed.blob })).toBe(`${PINNED_HOST_ALIAS} ssh-ed25519 ${ed.blob}\n`);
  });
});
