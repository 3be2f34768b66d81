// What a node's package manager says, read as data: the OS family from
// /etc/os-release, installed versions, the upgrades apt would make (and which
// of them come from a security archive), and the package changes between two
// listings. Pure functions: the actions run the commands.

export type PackageFamily = 'debian' | 'rhel';

export interface PackageChange {
  package: string;
  /** Null: newly installed. */
  from: string | null;
  /** Null: removed. */
  to: string | null;
}

/** One upgrade apt would make: from `apt-get -s` (`Inst NAME [OLD] (NEW RELEASES [ARCH])`). */
export interface PlannedUpgrade {
  package: string;
  from: string | null;
  to: string;
  /** Where the new version comes from, as apt names it (e.g. `Debian-Security:12/stable-security`). */
  origin: string;
  security: boolean;
}

/** Package names as dpkg and rpm allow them: anything else in a listing is not used as an argument. */
export const PACKAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9+._-]*(:[a-z0-9-]+)?$/;

/** The family of /etc/os-release's ID and ID_LIKE, or null for one Jarvis cannot upgrade. */
export function packageFamily(osRelease: string): PackageFamily | null {
  const field = (name: string) => osRelease.match(new RegExp(`^${name}=("?)([^"\\n]*)\\1$`, 'm'))?.[2] ?? '';
  const ids = `${field('ID')} ${field('ID_LIKE')}`.toLowerCase().split(/\s+/);
  if (ids.some((id) => ['debian', 'ubuntu'].includes(id))) return 'debian';
  if (ids.some((id) => ['rhel', 'fedora', 'centos', 'rocky', 'almalinux', 'ol', 'amzn'].includes(id))) return 'rhel';
  return null;
}

/** `NAME<TAB>VERSION` lines (dpkg-query or rpm with a tab format) as a map. */
export function parseVersions(listing: string): Map<string, string> {
  const versions = new Map<string, string>();
  for (const line of listing.split('\n')) {
    const [name, version] = line.split('\t');
    if (name && version && PACKAGE_NAME.test(name)) versions.set(name, version.trim());
  }
  return versions;
}

/** What changed between two listings, sorted by package. */
export function packageChanges(before: Map<string, string>, after: Map<string, string>): PackageChange[] {
  const changes: PackageChange[] = [];
  for (const [name, version] of after) if (before.get(name) !== version) changes.push({ package: name, from: before.get(name) ?? null, to: version });
  for (const [name, version] of before) if (!after.has(name)) changes.push({ package: name, from: version, to: null });
  return changes.sort((a, b) => a.package.localeCompare(b.package));
}

/**
 * An archive is a security one when apt names it so: Debian's
 * `Debian-Security:12/stable-security`, Ubuntu's `Ubuntu:22.04/jammy-security`.
 */
export function isSecurityOrigin(origin: string): boolean {
  return /security/i.test(origin);
}

const INST_LINE = /^Inst (\S+) (?:\[([^\]]+)\] )?\((\S+) (.*?)(?: \[[^\]]+\])?\)/;

/** The upgrades and installs `apt-get -s upgrade` would make. */
export function parseAptSimulation(output: string): PlannedUpgrade[] {
  const planned: PlannedUpgrade[] = [];
  for (const line of output.split('\n')) {
    const match = INST_LINE.exec(line.trim());
    if (!match || !PACKAGE_NAME.test(match[1]!)) continue;
    const origin = match[4]!;
    planned.push({ package: match[1]!, from: match[2] ?? null, to: match[3]!, origin, security: isSecurityOrigin(origin) });
  }
  return planned;
}

/**
 * What the entries of /var/log/apt/history.log whose command line carries
 * `tag` changed (every attempt of one run's upgrade): per package, the version
 * before the first and after the last, sorted by package.
 */
export function aptHistoryChanges(historyLog: string, tag: string): PackageChange[] {
  const tagged = historyLog.split(/\n\s*\n/).filter((text) => text.split('\n').some((line) => line.startsWith('Commandline:') && line.includes(tag)));
  const merged = new Map<string, PackageChange>();
  for (const change of tagged.flatMap(entryChanges)) {
    const earlier = merged.get(change.package);
    merged.set(change.package, earlier ? { ...earlier, to: change.to } : change);
  }
  return [...merged.values()].sort((a, b) => a.package.localeCompare(b.package));
}

function entryChanges(entry: string): PackageChange[] {
  const changes: PackageChange[] = [];
  for (const line of entry.split('\n')) {
    const kind = line.match(/^(Upgrade|Install|Downgrade): (.*)$/);
    if (!kind) continue;
    // "name:arch (old, new)" for upgrades, "name:arch (new)" or "name:arch (new, automatic)" for installs.
    for (const item of kind[2]!.matchAll(/([^\s,(]+) \(([^)]*)\)/g)) {
      const name = item[1]!.replace(/:[a-z0-9-]+$/, '');
      const versions = item[2]!.split(', ').filter((part) => part !== 'automatic');
      if (!PACKAGE_NAME.test(name)) continue;
      if (kind[1] === 'Install') changes.push({ package: name, from: null, to: versions[0] ?? null });
      else changes.push({ package: name, from: versions[0] ?? null, to: versions[1] ?? null });
    }
  }
  return changes;
}
