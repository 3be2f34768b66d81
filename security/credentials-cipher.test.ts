import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CredentialsCipher } from './credentials-cipher.js';

describe('the credentials cipher', () => {
  it('seals with the current key, opens with any configured key, and names the key it used', () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const sealedByOld = new CredentialsCipher([oldKey]).seal('hunter2', 'connection:1');
    expect(sealedByOld.ciphertext).not.toContain('hunter2');
    const rotated = new CredentialsCipher([newKey, oldKey]);
    expect(rotated.open(sealedByOld.ciphertext, 'connection:1')).toBe('hunter2');
    expect(rotated.seal('x', 'c').keyId).toBe(CredentialsCipher.keyIdOf(newKey));
    expect(() => new CredentialsCipher([newKey]).open(sealedByOld.ciphertext, 'connection:1')).toThrow(/not configured/);
  });

  it('refuses a ciphertext moved to another row or tampered with', () => {
    const cipher = new CredentialsCipher([randomBytes(32)]);
    const { ciphertext } = cipher.seal('hunter2', 'connection:1');
    expect(() => cipher.open(ciphertext, 'connection:2')).toThrow();
    const parts = ciphertext.split(':');
    parts[4] = Buffer.from('tampered').toString('base64');
    expect(() => cipher.open(parts.join(':'), 'connection:1')).toThrow();
  });
});
