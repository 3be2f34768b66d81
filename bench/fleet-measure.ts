// Small measurements for bench:fleet: a process's CPU time, and percentiles.
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

/** User and system CPU seconds a process has used so far (Linux: /proc/PID/stat). */
export function cpuSeconds(pid: number): number {
  // The command name in parentheses may hold spaces: fields are counted after its closing parenthesis.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** The nearest-rank percentile (p in 0..100). */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}
