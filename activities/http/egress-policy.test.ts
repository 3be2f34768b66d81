import { describe, expect, it } from 'vitest';
import { describeRefusal, parseAllowlist, parseAllowlistEntry, refusalFor } from './egress-policy.js';
import { parseIp } from './ip-address.js';

function allowlist(...entries: string[]) {
  const parsed = parseAllowlist('staging', entries);
  expect(parsed.invalid).toEqual([]);
  return parsed.allowlist;
}

const ip = (text: string) => parseIp(text)!;

describe('allowlist entries', () => {
  it('are addresses, CIDR ranges, host names or *.domain patterns', () => {
    expect(parseAllowlistEntry('127.0.0.1')).toMatchObject({ kind: 'range', range: { family: 4, prefix: 32 } });
    expect(parseAllowlistEntry('10.0.0.0/8')).toMatchObject({ kind: 'range', range: { family: 4, prefix: 8 } });
    expect(parseAllowlistEntry('fd00::/8')).toMatchObject({ kind: 'range', range: { family: 6, prefix: 8 } });
    expect(parseAllowlistEntry('::ffff:10.0.0.0/104')).toMatchObject({ kind: 'range', range: { family: 4, prefix: 8 } });
    expect(parseAllowlistEntry('Health.Internal.')).toMatchObject({ kind: 'host', host: 'health.internal', subdomains: false });
    expect(parseAllowlistEntry('*.svc.internal')).toMatchObject({ kind: 'host', host: 'svc.internal', subdomains: true });
    expect(parseAllowlistEntry('shop_web')).toMatchObject({ kind: 'host', host: 'shop_web' });
  });

  it('refuse what is neither, and IP spellings that are not written as addresses', () => {
    for (const text of ['', 'http://x/', '10.0.0.0/33', 'a b', '2130706433', '0x7f.1', '127.1', 'host:8080', '*.', '-bad-.example']) {
      expect({ text, entry: parseAllowlistEntry(text) }).toEqual({ text, entry: undefined });
    }
    expect(parseAllowlist('dev', ['10.0.0.0/8', 'nope nope']).invalid).toEqual([{ index: 1, text: 'nope nope' }]);
  });
});

describe('the egress decision', () => {
  it('lets public addresses through with an empty allowlist', () => {
    expect(refusalFor('example.org', [ip('93.184.215.14'), ip('2606:2800:21f:cb07:6820:80da:af6b:8b2c')], allowlist())).toBeUndefined();
  });

  it('refuses a name when any of its addresses is not public', () => {
    expect(refusalFor('mixed.example', [ip('93.184.215.14'), ip('10.0.0.5')], allowlist())).toMatchObject({ host: 'mixed.example', addressClass: 'private' });
  });

  it('allows non-public targets the allowlist names by range, by address or by host name', () => {
    expect(refusalFor('10.1.2.3', [ip('10.1.2.3')], allowlist('10.0.0.0/8'))).toBeUndefined();
    expect(refusalFor('127.0.0.1', [ip('127.0.0.1')], allowlist('127.0.0.1'))).toBeUndefined();
    expect(refusalFor('[::ffff:7f00:1]', [ip('::ffff:7f00:1')], allowlist('127.0.0.1'))).toBeUndefined();
    expect(refusalFor('health.internal.', [ip('10.9.9.9')], allowlist('health.internal'))).toBeUndefined();
    expect(refusalFor('api.svc.internal', [ip('10.9.9.9')], allowlist('*.svc.internal'))).toBeUndefined();
    expect(refusalFor('svc.internal', [ip('10.9.9.9')], allowlist('*.svc.internal'))).toMatchObject({ addressClass: 'private' });
    expect(refusalFor('127.0.0.2', [ip('127.0.0.2')], allowlist('127.0.0.1'))).toMatchObject({ addressClass: 'loopback' });
    // A host name entry opens that name only, not the address it happens to resolve to.
    expect(refusalFor('127.0.0.1', [ip('127.0.0.1')], allowlist('localhost'))).toMatchObject({ addressClass: 'loopback' });
  });

  it('opens a metadata address only for an entry naming exactly that address', () => {
    const metadata = [ip('169.254.169.254')];
    expect(refusalFor('169.254.169.254', metadata, allowlist('169.254.0.0/16', '0.0.0.0/0'))).toMatchObject({ addressClass: 'metadata' });
    expect(refusalFor('metadata.google.internal', metadata, allowlist('metadata.google.internal'))).toMatchObject({ addressClass: 'metadata' });
    expect(refusalFor('169.254.169.254', metadata, allowlist('169.254.169.254'))).toBeUndefined();
    expect(refusalFor('169.254.169.1', [ip('169.254.169.1')], allowlist('169.254.0.0/16'))).toBeUndefined();
  });

  it('says what was refused and how an admin allows it', () => {
    const loopback = refusalFor('localhost', [ip('127.0.0.1')], allowlist())!;
    expect(describeRefusal(loopback, 'staging')).toBe(
      'localhost resolves to 127.0.0.1, a loopback address; an admin can allow it for staging with PUT /environments/staging/egress-allowlist (add "127.0.0.1", a range holding it, or the host "localhost")',
    );
    const literal = refusalFor('10.0.0.1', [ip('10.0.0.1')], allowlist())!;
    expect(describeRefusal(literal, 'prod')).toBe('10.0.0.1 is a private address; an admin can allow it for prod with PUT /environments/prod/egress-allowlist (add "10.0.0.1" or a range holding it)');
    const mapped = refusalFor('[::ffff:7f00:1]', [ip('::ffff:7f00:1')], allowlist())!;
    expect(describeRefusal(mapped, 'dev')).toMatch(/^::ffff:7f00:1 is 127\.0\.0\.1, a loopback address; /);
    const metadata = refusalFor('169.254.169.254', [ip('169.254.169.254')], allowlist())!;
    expect(describeRefusal(metadata, 'dev')).toBe('169.254.169.254 is a cloud metadata address; an admin can allow it for dev only by naming exactly "169.254.169.254" with PUT /environments/dev/egress-allowlist');
  });
});
