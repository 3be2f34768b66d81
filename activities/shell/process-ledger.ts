// Which process groups a worker has started, on disk, so that the next worker
// started on the machine ends what a crashed one left running. Each step's
// watchdog (run-process.ts) already kills its group when the worker dies; the
// ledger covers what it cannot: a watchdog that was itself killed. A group is
// killed only while its leader is still the process that was recorded (same
// pid, same start time), never a process that reused the pid.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** When a process started (clock ticks since boot, from /proc/<pid>/stat); undefined once it is gone. */
export function processStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is the state (field 3); a zombie has ended: only its exit status is left to collect.
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
  return fields[19];
}

/** `<pid>-<start time>`: a process, told apart from any later one that reuses its pid. */
function processKey(pid: number, startTime: string): string {
  return `${pid}-${startTime}`;
}

function parseProcessKey(key: string): { pid: number; startTime: string } | undefined {
  const match = /^(\d+)-(\d+)$/.exec(key);
  return match ? { pid: Number(match[1]), startTime: match[2]! } : undefined;
}

function isStillRunning(key: string): boolean {
  const parsed = parseProcessKey(key);
  return parsed !== undefined && processStartTime(parsed.pid) === parsed.startTime;
}

export class ProcessLedger {
  private constructor(private readonly folder: string) {}

  /**
   * Opens this worker process's ledger under `directory`, after ending the
   * groups recorded by worker processes that are no longer running. Returns
   * the ledger and the process groups it killed.
   */
  static open(directory: string): { ledger: ProcessLedger; killed: number[] } {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    const killed = killLeftovers(directory);
    const self = processStartTime(process.pid);
    const folder = path.join(directory, self ? processKey(process.pid, self) : `${process.pid}-0`);
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    return { ledger: new ProcessLedger(folder), killed };
  }

  /** Records a process group the worker started (its leader's pid); the returned function forgets it once it has ended. */
  record(pgid: number): () => void {
    const startTime = processStartTime(pgid);
    if (startTime === undefined) return () => {};
    const entry = path.join(this.folder, processKey(pgid, startTime));
    try {
      writeFileSync(entry, '');
    } catch {
      // The watchdog still ends the group with the worker; the ledger is the second line.
      return () => {};
    }
    return () => rmSync(entry, { force: true });
  }
}

/** Kills the recorded groups of every worker process that has ended, and forgets those workers. */
function killLeftovers(directory: string): number[] {
  const killed: number[] = [];
  for (const owner of readdirSync(directory)) {
    if (isStillRunning(owner)) continue;
    const folder = path.join(directory, owner);
    let entries: string[] = [];
    try {
      entries = readdirSync(folder);
    } catch {
      // Not a folder of ours, or another starting worker removed it first.
    }
    for (const entry of entries) {
      const group = parseProcessKey(entry);
      if (!group || processStartTime(group.pid) !== group.startTime) continue;
      try {
        process.kill(-group.pid, 'SIGKILL');
        killed.push(group.pid);
      } catch {
        // Ended between the check and the kill.
      }
    }
    rmSync(folder, { recursive: true, force: true });
  }
  return killed;
}
