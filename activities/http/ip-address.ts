// IP addresses and CIDR ranges as numbers, so a range test is one comparison
// whatever way the address was written.
import { isIPv4, isIPv6 } from 'node:net';

export interface IpAddress {
  family: 4 | 6;
  value: bigint;
}

export interface IpRange {
  family: 4 | 6;
  /** The network address (host bits cleared). */
  value: bigint;
  prefix: number;
}

const BITS = { 4: 32, 6: 128 } as const;

function ipv4Value(text: string): bigint {
  return text.split('.').reduce((value, part) => (value << 8n) | BigInt(Number(part)), 0n);
}

function ipv6Value(text: string): bigint {
  // A trailing dotted quad (::ffff:1.2.3.4) is two groups written the IPv4 way.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  let spelled = text;
  if (tail.includes('.')) {
    const v4 = ipv4Value(tail);
    spelled = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [left = '', right] = spelled.split('::');
  const head = left === '' ? [] : left.split(':');
  const rest = right === undefined || right === '' ? [] : right.split(':');
  const groups = [...head, ...Array<string>(8 - head.length - rest.length).fill('0'), ...rest];
  return groups.reduce((value, group) => (value << 16n) | BigInt(parseInt(group, 16)), 0n);
}

/** An address as the URL parser or the resolver writes it (IPv6 with or without brackets or zone); undefined for a name. */
export function parseIp(text: string): IpAddress | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (isIPv4(bare)) return { family: 4, value: ipv4Value(bare) };
  const unzoned = bare.split('%')[0] ?? '';
  if (isIPv6(unzoned)) return { family: 6, value: ipv6Value(unzoned) };
  return undefined;
}

/** `10.0.0.0/8`, `fd00::/8`, or one address (a range of one). */
export function parseRange(text: string): IpRange | undefined {
  const [address, prefixText, extra] = text.split('/');
  if (extra !== undefined || address === undefined) return undefined;
  const ip = parseIp(address);
  if (!ip) return undefined;
  const bits = BITS[ip.family];
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix > bits) return undefined;
  const hostBits = BigInt(bits - prefix);
  return { family: ip.family, value: (ip.value >> hostBits) << hostBits, prefix };
}

export function rangeContains(range: IpRange, ip: IpAddress): boolean {
  if (range.family !== ip.family) return false;
  const hostBits = BigInt(BITS[ip.family] - range.prefix);
  return ip.value >> hostBits === range.value >> hostBits;
}

export function isSingleAddress(range: IpRange): boolean {
  return range.prefix === BITS[range.family];
}

/** IPv4-mapped IPv6 (::ffff:a.b.c.d) reaches the IPv4 address itself: treat it as that address. */
export function canonicalIp(ip: IpAddress): IpAddress {
  if (ip.family === 6 && ip.value >> 32n === 0xffffn) return { family: 4, value: ip.value & 0xffffffffn };
  return ip;
}

export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) return [24n, 16n, 8n, 0n].map((shift) => String((ip.value >> shift) & 0xffn)).join('.');
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((shift) => Number((ip.value >> shift) & 0xffffn));
  // The longest run of zero groups (two or more) becomes "::", as RFC 5952 writes it.
  let best = { start: -1, length: 0 };
  for (let start = 0; start < 8; start += 1) {
    let length = 0;
    while (start + length < 8 && groups[start + length] === 0) length += 1;
    if (length > best.length) best = { start, length };
  }
  const hex = groups.map((group) => group.toString(16));
  if (best.length < 2) return hex.join(':');
  return `${hex.slice(0, best.start).join(':')}::${hex.slice(best.start + best.length).join(':')}`;
}
