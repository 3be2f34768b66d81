import { describe, expect, it } from 'vitest';
import { classifyAddress } from './address-classes.js';
import { formatIp, parseIp, parseRange, rangeContains } from './ip-address.js';

function classOf(text: string) {
  const ip = parseIp(text);
  if (!ip) throw new Error(`not an address: ${text}`);
  return classifyAddress(ip);
}

/** What the URL parser makes of a URL's host, which is all the guard ever sees. */
function hostOf(url: string) {
  return new URL(url).hostname;
}

describe('the address classifier', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['169.254.0.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['100.64.0.1', 'shared'],
    ['100.127.255.255', 'shared'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.10', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['100.100.100.200', 'metadata'],
  ])('calls %s %s', (address, expected) => {
    expect(classOf(address)).toBe(expected);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '192.169.0.1', '2606:4700:4700::1111', '2a00:1450:4001::200e'])('lets the public address %s through', (address) => {
    expect(classOf(address)).toBeUndefined();
  });

  it('sees through IPv4-mapped, NAT64 and 6to4 forms of non-public IPv4 addresses', () => {
    expect(classOf('::ffff:127.0.0.1')).toBe('loopback');
    expect(classOf('::ffff:7f00:1')).toBe('loopback');
    expect(classOf('::ffff:169.254.169.254')).toBe('metadata');
    expect(classOf('::ffff:10.0.0.1')).toBe('private');
    expect(classOf('64:ff9b::127.0.0.1')).toBe('loopback');
    expect(classOf('64:ff9b::a9fe:a9fe')).toBe('metadata');
    expect(classOf('2002:7f00:1::1')).toBe('loopback');
    expect(classOf('2002:0808:0808::1')).toBeUndefined();
    expect(classOf('::ffff:8.8.8.8')).toBeUndefined();
  });

  it('classifies the decimal, octal, hex and short spellings of loopback once the URL parser has read them', () => {
    for (const url of ['http://2130706433/', 'http://0x7f.1/', 'http://0x7f000001/', 'http://017700000001/', 'http://0177.0.0.1/', 'http://127.1/', 'http://[::ffff:127.0.0.1]/', 'http://[0:0:0:0:0:0:0:1]/']) {
      expect({ url, class: classOf(hostOf(url)) }).toEqual({ url, class: 'loopback' });
    }
    expect(classOf(hostOf('http://0xa9fea9fe/latest/meta-data/'))).toBe('metadata');
    expect(classOf(hostOf('http://2852039166/'))).toBe('metadata');
  });
});

describe('addresses and ranges', () => {
  it('reads IPv6 in its short, long, bracketed, zoned and dotted forms', () => {
    expect(formatIp(parseIp('[0:0:0:0:0:0:0:1]')!)).toBe('::1');
    expect(formatIp(parseIp('fe80::1%eth0')!)).toBe('fe80::1');
    expect(formatIp(parseIp('::ffff:1.2.3.4')!)).toBe('::ffff:102:304');
    expect(formatIp(parseIp('2001:db8:0:0:1:0:0:1')!)).toBe('2001:db8::1:0:0:1');
    expect(parseIp('localhost')).toBeUndefined();
    expect(parseIp('2130706433')).toBeUndefined();
  });

  it('tests membership by the prefix, whatever the host bits of the range were', () => {
    const range = parseRange('10.1.2.3/8')!;
    expect(rangeContains(range, parseIp('10.200.0.1')!)).toBe(true);
    expect(rangeContains(range, parseIp('11.0.0.1')!)).toBe(false);
    expect(rangeContains(parseRange('fd00::/8')!, parseIp('fd12::1')!)).toBe(true);
    expect(rangeContains(parseRange('fd00::/8')!, parseIp('10.0.0.1')!)).toBe(false);
    expect(parseRange('10.0.0.0/33')).toBeUndefined();
    expect(parseRange('10.0.0.0/8/1')).toBeUndefined();
    expect(parseRange('10.0.0.0/x')).toBeUndefined();
  });
});
