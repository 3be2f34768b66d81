import { describe, expect, it } from 'vitest';
import { parseTrustedProxies, TrustedProxies } from './trusted-proxies.js';

describe('trusted proxies', () => {
  const proxies = new TrustedProxies(['127.0.0.1', '::1', '10.0.0.0/8']);

  it('believes X-Forwarded-For only while the hop at hand is one of ours, read from the right', () => {
    expect(proxies.clientAddress('127.0.0.1', '198.51.100.7')).toBe('198.51.100.7');
    expect(proxies.clientAddress('::ffff:127.0.0.1', '198.51.100.7')).toBe('198.51.100.7');
    // The browser prepended a forged entry; Traefik (10.1.2.3) appended the real peer.
    expect(proxies.clientAddress('127.0.0.1', '203.0.113.66, 198.51.100.7, 10.1.2.3')).toBe('198.51.100.7');
    expect(proxies.clientAddress('203.0.113.9', '198.51.100.7')).toBe('203.0.113.9');
    expect(proxies.clientAddress('127.0.0.2', '198.51.100.7')).toBe('127.0.0.2');
    expect(proxies.clientAddress('127.0.0.1', 'not-an-address')).toBe('127.0.0.1');
    expect(proxies.clientAddress('127.0.0.1', undefined)).toBe('127.0.0.1');
  });

  it('refuses entries that are neither addresses nor CIDR ranges', () => {
    expect(parseTrustedProxies(' 127.0.0.1 , ::1,10.0.0.0/8,fd00::/8 ')).toEqual(['127.0.0.1', '::1', '10.0.0.0/8', 'fd00::/8']);
    for (const bad of ['localhost', '10.0.0.0/33', '10.0.0.0/8/1', '1.2.3', '*']) expect(() => parseTrustedProxies(bad)).toThrow(/neither an IP address nor a CIDR range/);
  });
});
