import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { processStartTime, ProcessLedger } from './process-ledger.js';

const started: number[] = [];

/** A process group like a step's: a shell leading it, with a child of its own; returns both pids. */
async function startGroup(): Promise<{ leader: number; child: number }> {
  const shell = spawn('/bin/sh', ['-c', 'sleep 60 & echo $!; wait'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  const child = await new Promise<number>((resolve) => shell.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
  started.push(shell.pid!);
  return { leader: shell.pid!, child };
}

async function gone(pid: number): Promise<boolean> {
  for (let tries = 0; tries < 20 && processStartTime(pid) !== undefined; tries += 1) await new Promise((resolve) => setTimeout(resolve, 50));
  return processStartTime(pid) === undefined;
}

function record(directory: string, owner: string, entry: string) {
  mkdirSync(path.join(directory, owner), { recursive: true });
  writeFileSync(path.join(directory, owner, entry), '');
}

afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

describe('the process ledger', () => {
  it('kills at start the groups a worker that has ended recorded, but only while their leader is still that process', async () => {
    const directory = mkdtempSync(path.join(os.tmpdir(), 'jarvis-ledger-'));
    const left = await startGroup();
    const reused = await startGroup();
    // A worker that has ended: its pid now names another process (ours), started at another time.
    const deadOwner = `${process.pid}-1`;
    record(directory, deadOwner, `${left.leader}-${processStartTime(left.leader)}`);
    // The recorded process ended and its pid was reused by a later one: not to be touched.
    record(directory, deadOwner, `${reused.leader}-1`);

    const { killed } = ProcessLedger.open(directory);

    expect(killed).toEqual([left.leader]);
    expect(await gone(left.leader)).toBe(true);
    expect(await gone(left.child)).toBe(true);
    expect(processStartTime(reused.leader)).toBeDefined();
    expect(existsSync(path.join(directory, deadOwner))).toBe(false);
  });

  it('leaves alone the groups of a worker that still runs, and forgets a group once it has ended', async () => {
    const directory = mkdtempSync(path.join(os.tmpdir(), 'jarvis-ledger-'));
    const running = await startGroup();
    const { ledger } = ProcessLedger.open(directory);
    const forget = ledger.record(running.leader);
    const entry = path.join(directory, `${process.pid}-${processStartTime(process.pid)}`, `${running.leader}-${processStartTime(running.leader)}`);
    expect(existsSync(entry)).toBe(true);

    expect(ProcessLedger.open(directory).killed).toEqual([]);
    expect(processStartTime(running.leader)).toBeDefined();

    forget();
    expect(existsSync(entry)).toBe(false);
  });
});
