// Starts bench/fleet-fan-out-worker.ts as a process of its own (the way the
// web stack starts start.ts) and stops it.
import { spawn } from 'node:child_process';
import { PROJECT_ROOT } from '../config/env.js';

export async function startFanOutWorker(env: Record<string, string>): Promise<{ pid: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/fleet-fan-out-worker.ts'], { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ready')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(() => reject(new Error(`the fan-out worker exited before it was ready:\n${output}`)));
  });
  // Errors after start show on the bench's standard error.
  child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  return {
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
