export interface HostRecap {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
  rescued: number;
  ignored: number;
}

const RECAP_LINE = /^(\S+)\s*:\s*((?:\w+=\d+\s*)+)$/;

/** Parses the PLAY RECAP block of ansible-playbook's output into counts per host. */
export function parsePlayRecap(lines: string[]): Record<string, HostRecap> {
  const recap: Record<string, HostRecap> = {};
  const start = lines.findIndex((line) => line.startsWith('PLAY RECAP'));
  if (start < 0) return recap;
  for (const line of lines.slice(start + 1)) {
    const match = RECAP_LINE.exec(line.trim());
    if (!match) continue;
    const counts: HostRecap = { ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 };
    for (const pair of (match[2] ?? '').trim().split(/\s+/)) {
      const [name, value] = pair.split('=');
      if (name && name in counts) counts[name as keyof HostRecap] = Number(value);
    }
    recap[match[1] ?? ''] = counts;
  }
  return recap;
}
