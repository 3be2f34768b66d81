// Which peers may speak for a client: the web server in front of the API and
// the TLS proxy in front of both (JARVIS_TRUSTED_PROXIES). Their X-Forwarded-*
// headers are believed; anyone else's are ignored, so nobody can claim another
// address (rate limits, sign-in backoff, audit) or another origin.
import { BlockList, isIP } from 'node:net';

/** An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, how dual-stack sockets report IPv4 peers) as plain IPv4. */
export function normalizeAddress(address: string): string {
  return /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address)?.[1] ?? address;
}

const family = (address: string) => (isIP(address) === 6 ? 'ipv6' : 'ipv4');

/** Checks a comma-separated list of addresses and CIDR ranges; throws with the first entry that is neither. */
export function parseTrustedProxies(text: string): string[] {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const entry of entries) {
    const [address = '', bits, extra] = entry.split('/');
    const maxBits = isIP(address) === 6 ? 128 : 32;
    const validBits = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= maxBits);
    if (!isIP(address) || !validBits || extra !== undefined) throw new Error(`"${entry}" is neither an IP address nor a CIDR range (e.g. 10.0.0.0/8)`);
  }
  return entries;
}

export class TrustedProxies {
  private readonly list = new BlockList();

  constructor(entries: readonly string[]) {
    for (const entry of parseTrustedProxies(entries.join(','))) {
      const [address = '', bits] = entry.split('/');
      if (bits === undefined) this.list.addAddress(normalizeAddress(address), family(normalizeAddress(address)));
      else this.list.addSubnet(address, Number(bits), family(address));
    }
  }

  trusts(address: string | undefined): boolean {
    const normalized = normalizeAddress(address ?? '');
    return isIP(normalized) !== 0 && this.list.check(normalized, family(normalized));
  }

  /**
   * The client's address: the peer, or, while the hop at hand is one of our
   * proxies, the address it says it received the request from (X-Forwarded-For
   * read from the right, as each proxy appends). A client can prepend whatever
   * it likes; those entries are never reached.
   */
  clientAddress(peer: string, forwardedFor: string | undefined): string {
    let current = normalizeAddress(peer);
    const hops = (forwardedFor ?? '')
      .split(',')
      .map((hop) => normalizeAddress(hop.trim()))
      .reverse();
    for (const hop of hops) {
      if (!this.trusts(current) || isIP(hop) === 0) break;
      current = hop;
    }
    return current;
  }
}
