// The small languages inside a Compose file, read as Docker reads them: Go
// durations, memory sizes, CPU counts, shell-split commands, short port and
// volume syntax, image references.

export class UnitError extends Error {
  override name = 'UnitError';
}

const DURATION_UNITS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** A Go duration (`1m30s`, `1.5s`, `300ms`, `0`) in nanoseconds. */
export function goDurationNanos(text: string): number {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let index = 0;
  while (index < trimmed.length) {
    part.lastIndex = index;
    const match = part.exec(trimmed);
    if (!match) throw new UnitError(`"${text}" is not a duration (write 10s, 1m30s, 500ms or 1h)`);
    total += Number(match[1]) * (DURATION_UNITS[match[2] ?? ''] ?? 0);
    index = part.lastIndex;
  }
  if (trimmed === '') throw new UnitError('an empty duration (write 10s, 1m30s, 500ms or 1h)');
  return Math.round(total);
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** A memory size (`512M`, `1.5g`, `64mb`, `1024`) in bytes, binary units as Docker's RAMInBytes. */
export function ramInBytes(value: string | number): number {
  if (typeof value === 'number') return value;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?\s*$/i.exec(value);
  if (!match) throw new UnitError(`"${value}" is not a size (write 512M, 1G or a number of bytes)`);
  return Math.floor(Number(match[1]) * (SIZE_UNITS[(match[2] ?? '').toLowerCase()] ?? 1));
}

/** CPUs (`0.5`, `2`) as nano CPUs, exactly (no floating point drift). */
export function nanoCpus(value: string | number): number {
  const text = String(value).trim();
  const match = /^(\d*)(?:\.(\d*))?$/.exec(text);
  if (!match || text === '' || text === '.') throw new UnitError(`"${value}" is not a number of CPUs (write 0.5 or 2)`);
  const fraction = (match[2] ?? '').padEnd(9, '0');
  if (fraction.length > 9 && /[1-9]/.test(fraction.slice(9))) throw new UnitError(`"${value}" CPUs is more precise than one nano CPU`);
  return Number(match[1] || '0') * 1e9 + Number(fraction.slice(0, 9));
}

/** Splits a command string into words as a POSIX shell would (quotes and backslashes), without expanding anything. */
export function shellSplit(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let index = 0; index < text.length; index++) {
    const char = text[index] ?? '';
    if (quote === "'") {
      if (char === "'") quote = undefined;
      else word += char;
    } else if (quote === '"') {
      if (char === '"') quote = undefined;
      else if (char === '\\' && index + 1 < text.length && '"\\$`\n'.includes(text[index + 1] ?? '')) word += text[++index];
      else word += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      inWord = true;
    } else if (char === '\\') {
      if (index + 1 < text.length) word += text[++index];
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (char === '#' && !inWord) {
      break;
    } else {
      word += char;
      inWord = true;
    }
  }
  if (quote) throw new UnitError(`unterminated ${quote === '"' ? 'double' : 'single'} quote in "${text}"`);
  if (inWord) words.push(word);
  return words;
}

export interface PortConfig {
  Protocol: string;
  TargetPort: number;
  PublishedPort?: number;
  PublishMode: string;
}

function portRange(text: string, what: string): [number, number] {
  const match = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!match) throw new UnitError(`invalid ${what} port "${text}"`);
  const start = Number(match[1]);
  const end = match[2] === undefined ? start : Number(match[2]);
  if (start < 0 || end > 65_535 || end < start) throw new UnitError(`invalid ${what} port range "${text}"`);
  return [start, end];
}

/**
 * Short port syntax: `80`, `8080:80`, `127.0.0.1:8080:80`, `[::1]::80`, `53:53/udp`,
 * `9090-9091:8080-8081`. Swarm cannot bind an address: it is dropped (`ignoredAddress`).
 */
export function parseShortPort(spec: string): { ports: PortConfig[]; ignoredAddress?: string } {
  const [body = '', protocol = 'tcp', extra] = spec.split('/');
  if (extra !== undefined || !['tcp', 'udp', 'sctp'].includes(protocol.toLowerCase())) throw new UnitError(`invalid protocol in port "${spec}" (tcp, udp or sctp)`);
  let address: string | undefined;
  let rest = body;
  const bracketed = /^\[([^\]]*)\]:(.*)$/.exec(body);
  if (bracketed) {
    address = bracketed[1];
    rest = bracketed[2] ?? '';
  }
  const parts = rest.split(':');
  if (!bracketed && parts.length === 3) address = parts.shift();
  if (parts.length > 2) throw new UnitError(`invalid port "${spec}" (write [address:]published:target[/protocol])`);
  const target = parts.pop() ?? '';
  const published = parts.pop() ?? '';
  const [targetStart, targetEnd] = portRange(target, 'target');
  const publishedRange = published === '' ? undefined : portRange(published, 'published');
  const count = targetEnd - targetStart + 1;
  if (publishedRange && publishedRange[1] - publishedRange[0] + 1 !== count && publishedRange[0] !== publishedRange[1]) {
    throw new UnitError(`port ranges do not match in "${spec}"`);
  }
  const ports: PortConfig[] = [];
  for (let offset = 0; offset < count; offset++) {
    const publishedPort = publishedRange ? (publishedRange[0] === publishedRange[1] ? publishedRange[0] : publishedRange[0] + offset) : undefined;
    ports.push({ Protocol: protocol.toLowerCase(), TargetPort: targetStart + offset, ...(publishedPort !== undefined ? { PublishedPort: publishedPort } : {}), PublishMode: 'ingress' });
  }
  return { ports, ...(address ? { ignoredAddress: address } : {}) };
}

export interface ServiceVolume {
  type: string;
  source?: string;
  target: string;
  read_only?: boolean;
  consistency?: string;
  bind?: { propagation?: string };
  volume?: { nocopy?: boolean; subpath?: string };
  tmpfs?: { size?: number | string; mode?: number };
}

const PROPAGATIONS = ['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate'];
const CONSISTENCIES = ['consistent', 'cached', 'delegated'];

const isFilePath = (source: string) => /^[./~]/.test(source);

/** Short volume syntax: `/data`, `name:/data`, `./dir:/data:ro`, `name:/data:nocopy`, `/host:/data:ro,rshared`. */
export function parseShortVolume(spec: string): ServiceVolume {
  const parts = spec.split(':');
  if (parts.some((part) => part === '') || parts.length > 3) throw new UnitError(`invalid volume "${spec}" (write [source:]target[:ro])`);
  const [first = '', second, options] = parts;
  const volume: ServiceVolume = second === undefined ? { type: 'volume', target: first } : { type: isFilePath(first) ? 'bind' : 'volume', source: first, target: second };
  for (const option of options ? options.split(',') : []) {
    if (option === 'ro') volume.read_only = true;
    else if (option === 'rw') volume.read_only = false;
    else if (option === 'nocopy') volume.volume = { nocopy: true };
    else if (PROPAGATIONS.includes(option)) volume.bind = { propagation: option };
    else if (CONSISTENCIES.includes(option)) volume.consistency = option;
    else if (option !== 'z' && option !== 'Z') throw new UnitError(`unknown volume option "${option}" in "${spec}" (ro, rw, nocopy, a propagation or a consistency)`);
  }
  if (volume.read_only === false) delete volume.read_only;
  return volume;
}

// Docker's reference grammar, simplified: [registry[:port]/]path[:tag][@digest], lower-case path.
const IMAGE_REFERENCE =
  /^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$/;

export function checkImageReference(image: string): string | undefined {
  if (/^[0-9a-f]{64}$/.test(image)) return undefined;
  if (!IMAGE_REFERENCE.test(image)) {
    return /[A-Z]/.test(image.split(/[:@]/)[0] ?? '') ? 'repository name must be lowercase' : 'invalid reference format';
  }
  return undefined;
}
