// Where http and notify actions may connect: public addresses always; a
// non-public one only when the run environment's allowlist names it (an
// address, a CIDR range, or the host name the URL uses).
import { classifyAddress, describeClass, type AddressClass } from './address-classes.js';
import { canonicalIp, formatIp, isSingleAddress, parseIp, parseRange, rangeContains, type IpAddress, type IpRange } from './ip-address.js';

export type AllowlistEntry = { kind: 'range'; text: string; range: IpRange } | { kind: 'host'; text: string; host: string; subdomains: boolean };

/** An environment's allowlist, parsed. */
export interface EgressAllowlist {
  environment: string;
  entries: AllowlistEntry[];
}

/** Gives the allowlist of a run's environment (from the database on the installation's workers). */
export interface EgressAllowlistSource {
  allowlist(environment: string): Promise<EgressAllowlist>;
}

const LABEL = '[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?';
const HOST_PATTERN = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);

/** A host name as URLs and allowlist entries are compared: lower case, without the root's trailing dot. */
export function normalizeHost(host: string): string {
  return host.toLowerCase().replace(/\.$/, '');
}

/** `10.0.0.0/8`, `fd00::/8`, `127.0.0.1`, `health.internal` or `*.svc.internal`; undefined when it is none of them. */
export function parseAllowlistEntry(text: string): AllowlistEntry | undefined {
  const trimmed = text.trim();
  const range = parseRange(trimmed);
  if (range) return { kind: 'range', text: trimmed, range: canonicalRange(range) };
  if (/[/:\s]/.test(trimmed)) return undefined;
  const subdomains = trimmed.startsWith('*.');
  const host = urlHost(subdomains ? trimmed.slice(2) : trimmed);
  // A name the URL parser reads as an address (2130706433, 0x7f.1) must be written as the address.
  if (host === undefined || parseIp(host) || host.length > 253 || !HOST_PATTERN.test(host)) return undefined;
  return { kind: 'host', text: trimmed, host, subdomains };
}

/** The host as URLs spell it (lower case, IDN in punycode, no trailing dot); undefined when no URL can hold it. */
function urlHost(text: string): string | undefined {
  try {
    return normalizeHost(new URL(`http://${text}/`).hostname);
  } catch {
    return undefined;
  }
}

/** An IPv4-mapped range (::ffff:10.0.0.0/104) is that IPv4 range. */
function canonicalRange(range: IpRange): IpRange {
  if (range.family === 6 && range.prefix >= 96 && range.value >> 32n === 0xffffn) return { family: 4, value: range.value & 0xffffffffn, prefix: range.prefix - 96 };
  return range;
}

/** Every entry parsed, or the index and text of each one that is not an address, range or host name. */
export function parseAllowlist(environment: string, texts: readonly string[]): { allowlist: EgressAllowlist; invalid: Array<{ index: number; text: string }> } {
  const entries: AllowlistEntry[] = [];
  const invalid: Array<{ index: number; text: string }> = [];
  texts.forEach((text, index) => {
    const entry = parseAllowlistEntry(text);
    if (entry) entries.push(entry);
    else invalid.push({ index, text });
  });
  return { allowlist: { environment, entries }, invalid };
}

export function emptyAllowlist(environment: string): EgressAllowlist {
  return { environment, entries: [] };
}

export const ALLOWLIST_HINT = 'an address, a CIDR range (10.0.0.0/8, fd00::/8), a host name (health.internal) or *.domain';

function hostMatches(entry: Extract<AllowlistEntry, { kind: 'host' }>, host: string): boolean {
  return entry.subdomains ? host.endsWith(`.${entry.host}`) : host === entry.host;
}

/** Why connecting to `address` (which `host` resolved to) is refused; undefined when it is allowed. */
export interface Refusal {
  host: string;
  address: IpAddress;
  addressClass: AddressClass;
}

export function refusalFor(host: string, addresses: readonly IpAddress[], allowlist: EgressAllowlist): Refusal | undefined {
  const name = normalizeHost(host);
  for (const resolved of addresses) {
    const address = canonicalIp(resolved);
    const addressClass = classifyAddress(address);
    if (!addressClass) continue;
    const ranges = allowlist.entries.filter((entry): entry is Extract<AllowlistEntry, { kind: 'range' }> => entry.kind === 'range');
    // Metadata services hand out credentials: a broad range or a host name does not open them, only their exact address.
    const allowed =
      addressClass === 'metadata'
        ? ranges.some((entry) => isSingleAddress(entry.range) && rangeContains(entry.range, address))
        : ranges.some((entry) => rangeContains(entry.range, address)) || allowlist.entries.some((entry) => entry.kind === 'host' && hostMatches(entry, name));
    if (!allowed) return { host: name, address, addressClass };
  }
  return undefined;
}

/** What the operator reads: what was refused, why, and how an admin allows it. */
export function describeRefusal(refusal: Refusal, environment: string): string {
  const address = formatIp(refusal.address);
  const literal = parseIp(refusal.host) !== undefined;
  const bare = refusal.host.replace(/^\[|\]$/g, '');
  const kind = describeClass(refusal.addressClass);
  const what = !literal ? `${refusal.host} resolves to ${address}, ${kind}` : bare === address ? `${address} is ${kind}` : `${bare} is ${address}, ${kind}`;
  const endpoint = `PUT /environments/${environment}/egress-allowlist`;
  const how =
    refusal.addressClass === 'metadata'
      ? `an admin can allow it for ${environment} only by naming exactly "${address}" with ${endpoint}`
      : `an admin can allow it for ${environment} with ${endpoint} (add "${address}"${literal ? ' or a range holding it' : `, a range holding it, or the host "${refusal.host}"`})`;
  return `${what}; ${how}`;
}
