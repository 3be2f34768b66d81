// Which addresses are not the public internet: what http and notify actions
// refuse to reach unless an environment's allowlist names them.
import { canonicalIp, parseRange, rangeContains, type IpAddress, type IpRange } from './ip-address.js';

export type AddressClass = 'loopback' | 'link-local' | 'private' | 'unspecified' | 'shared' | 'multicast' | 'broadcast' | 'reserved' | 'metadata';

const DESCRIPTIONS: Record<AddressClass, string> = {
  loopback: 'a loopback address',
  'link-local': 'a link-local address',
  private: 'a private address',
  unspecified: 'an unspecified address',
  shared: 'a carrier-grade NAT (shared) address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
  reserved: 'a reserved address',
  metadata: 'a cloud metadata address',
};

export function describeClass(addressClass: AddressClass): string {
  return DESCRIPTIONS[addressClass];
}

/**
 * Instance metadata services (AWS, GCP, Azure, DigitalOcean, OpenStack;
 * ECS and EKS credentials; Alibaba; Oracle's older one). They hand out
 * credentials, so only an allowlist entry naming the exact address opens one.
 */
const METADATA_ADDRESSES = ['169.254.169.254', '169.254.170.2', '169.254.170.23', 'fd00:ec2::254', 'fd00:ec2::23', '100.100.100.200', '192.0.0.192'];

/** `embedded`: an IPv6 form that carries an IPv4 address a gateway would reach; that address decides. */
type Rule = [range: string, addressClass: AddressClass | 'embedded'];

// First match wins: narrower ranges come before the ranges holding them.
const RULES: Rule[] = [
  ['0.0.0.0/8', 'unspecified'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'shared'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'reserved'],
  ['192.0.2.0/24', 'reserved'],
  ['192.88.99.0/24', 'reserved'],
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'reserved'],
  ['198.51.100.0/24', 'reserved'],
  ['203.0.113.0/24', 'reserved'],
  ['224.0.0.0/4', 'multicast'],
  ['255.255.255.255/32', 'broadcast'],
  ['240.0.0.0/4', 'reserved'],
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['::/96', 'reserved'], // IPv4-compatible, deprecated
  ['::ffff:0:0:0/96', 'reserved'], // IPv4-translated
  ['64:ff9b::/96', 'embedded'], // NAT64
  ['64:ff9b:1::/48', 'private'], // local-use NAT64
  ['100::/64', 'reserved'], // discard-only
  ['2001::/32', 'reserved'], // Teredo
  ['2001:db8::/32', 'reserved'], // documentation
  ['2002::/16', 'embedded'], // 6to4
  ['fc00::/7', 'private'], // unique local
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'private'], // site-local, deprecated
  ['ff00::/8', 'multicast'],
];

const parsedRules: Array<[IpRange, AddressClass | 'embedded']> = RULES.map(([text, addressClass]) => [parseRange(text)!, addressClass]);
const metadataRanges = METADATA_ADDRESSES.map((text) => parseRange(text)!);

function embeddedIpv4(ip: IpAddress): IpAddress {
  // NAT64 keeps the IPv4 address in the last 32 bits; 6to4 right after its 16-bit prefix.
  const value = ip.value >> 112n === 0x2002n ? (ip.value >> 80n) & 0xffffffffn : ip.value & 0xffffffffn;
  return { family: 4, value };
}

/** What kind of non-public address this is; undefined for a public one. */
export function classifyAddress(address: IpAddress): AddressClass | undefined {
  const ip = canonicalIp(address);
  if (metadataRanges.some((range) => rangeContains(range, ip))) return 'metadata';
  const rule = parsedRules.find(([range]) => rangeContains(range, ip));
  if (!rule) return undefined;
  return rule[1] === 'embedded' ? classifyAddress(embeddedIpv4(ip)) : rule[1];
}
