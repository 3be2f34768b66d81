import { describe, expect, it } from 'vitest';
import { base32Decode, base32Encode, matchTotp, totpCode, totpStepAt, verifyTotp } from './totp.js';

describe('TOTP', () => {
  it('matches the RFC 6238 test vectors (SHA-1)', () => {
    const secret = base32Encode(Buffer.from('12345678901234567890'));
    expect(totpCode(secret, 59_000)).toBe('287082');
    expect(totpCode(secret, 1_111_111_109_000)).toBe('081804');
    expect(totpCode(secret, 1_234_567_890_000)).toBe('005924');
    expect(base32Decode(secret).toString()).toBe('12345678901234567890');
  });

  it('accepts one step of clock drift and nothing older', () => {
    const secret = base32Encode(Buffer.from('12345678901234567890'));
    const now = 1_234_567_890_000;
    expect(verifyTotp(secret, totpCode(secret, now - 30_000), now)).toBe(true);
    expect(verifyTotp(secret, totpCode(secret, now - 90_000), now)).toBe(false);
    expect(verifyTotp(secret, 'abcdef', now)).toBe(false);
  });

  it('names the step a code belongs to, so it can be accepted only once', () => {
    const secret = base32Encode(Buffer.from('12345678901234567890'));
    const now = 1_234_567_890_000;
    expect(matchTotp(secret, totpCode(secret, now), now)).toBe(totpStepAt(now));
    expect(matchTotp(secret, totpCode(secret, now - 30_000), now)).toBe(totpStepAt(now) - 1);
    expect(matchTotp(secret, totpCode(secret, now + 30_000), now)).toBe(totpStepAt(now) + 1);
    expect(matchTotp(secret, totpCode(secret, now - 90_000), now)).toBeUndefined();
  });
});
