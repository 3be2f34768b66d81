// What every inbound webhook checks before it believes a request: a
// constant-time comparison and HMAC-SHA256 signatures (git hosts, triggers).
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Equal texts, compared in time that does not depend on where they differ. */
export function sameText(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function hmacSha256Hex(secret: string, data: Buffer | string): string {
  return createHmac('sha256', secret).update(data).digest('hex');
}
