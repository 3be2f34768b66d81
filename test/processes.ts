// Child processes of the product started by end-to-end tests: the worker
// process and the jarvis CLI, exactly as users start them.
import { spawn, type ChildProcess } from 'node:child_process';
import { PROJECT_ROOT } from '../config/env.js';

// `node --import tsx` rather than the tsx wrapper, so the child's pid is the worker itself (SIGKILL must reach it).
const NODE_ARGS = ['--import', 'tsx'];

export interface ProcessEnv {
  TEMPORAL_ADDRESS?: string;
  JARVIS_DATA_DIR?: string;
  JARVIS_TASK_QUEUE?: string;
  JARVIS_RUNBOOKS_DIR?: string;
  JARVIS_USER?: string;
  JARVIS_API_URL?: string;
  JARVIS_API_TOKEN?: string;
  DATABASE_URL?: string;
}

export function spawnWorkerProcess(env: ProcessEnv): { child: ChildProcess; output: () => string; ready: Promise<void> } {
  const child = spawn(process.execPath, [...NODE_ARGS, 'temporal/worker-main.ts'], { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('jarvis worker polling')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready:\n${output}`)));
  });
  // A test that kills the worker without awaiting `ready` leaves no unhandled rejection; awaiting it still throws.
  ready.catch(() => undefined);
  return { child, output: () => output, ready };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: ProcessEnv, stdin?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...NODE_ARGS, 'cli/main.ts', ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.end(stdin ?? '');
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
