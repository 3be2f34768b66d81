// Finds or builds the Temporal CLI and runs its dev server, so `npm start` and
// the tests talk to a real Temporal server on one machine.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { connectToTemporal, waitForTemporal } from './client.js';
import { freePort } from '../config/free-port.js';
import { devServerSearchAttributeFlags, registerSearchAttributes } from './search-attributes.js';

/** The newest Temporal CLI that `go install` can build (later ones carry a replace directive). */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

export interface DevServerOptions {
  binary: string;
  port: number;
  uiPort?: number;
  /** Where the UI serves itself (`/temporal` behind the web app) and the codec endpoint it tells browsers to call. */
  ui?: TemporalUiOptions;
  /** Temporal's HTTP API; a free port when not given (the CLI's default, port + 1000, can be out of range). */
  httpPort?: number;
  /** SQLite file that keeps workflows across restarts; in memory without it. */
  dbFile?: string;
  logFile: string;
  namespace?: string;
  startTimeoutMs?: number;
  /** More dynamic config, e.g. `{ 'frontend.namespaceCount': 12000 }` for thousands of pollers (values as JSON). */
  dynamicConfig?: Record<string, string | number | boolean>;
}

export interface TemporalUiOptions {
  publicPath: string;
  codecEndpoint: string;
}

export interface RunningTemporal {
  address: string;
  uiUrl?: string;
  /** Stops what this process started; a no-op for a server given by TEMPORAL_ADDRESS. */
  stop(): Promise<void>;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function findTemporalBinary(searchPath: string, cacheBinDir: string): string | undefined {
  const candidates = [...searchPath.split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, 'temporal')), path.join(cacheBinDir, 'temporal')];
  return candidates.find(isExecutable);
}

/** Builds the Temporal CLI with Go into the cache folder; several minutes the first time. */
export function buildTemporalWithGo(cacheBinDir: string, log: (line: string) => void): string | undefined {
  const go = ['go', '/usr/local/go/bin/go'].find((candidate) => spawnSync(candidate, ['version']).status === 0);
  if (!go) return undefined;
  mkdirSync(cacheBinDir, { recursive: true });
  log(`Building the Temporal CLI with Go (${TEMPORAL_CLI_MODULE}) into ${cacheBinDir}; this takes a few minutes once.`);
  const result = spawnSync(go, ['install', TEMPORAL_CLI_MODULE], { env: { ...process.env, GOBIN: cacheBinDir }, stdio: 'inherit' });
  const binary = path.join(cacheBinDir, 'temporal');
  return result.status === 0 && isExecutable(binary) ? binary : undefined;
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

export async function startDevServer(options: DevServerOptions): Promise<RunningTemporal & { process: ChildProcess }> {
  const httpPort = options.httpPort ?? (await freePort());
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(options.port), '--http-port', String(httpPort)];
  args.push('--log-format', 'json', '--log-level', 'warn');
  if (options.uiPort) args.push('--ui-port', String(options.uiPort));
  else args.push('--headless');
  if (options.uiPort && options.ui) args.push('--ui-public-path', options.ui.publicPath, '--ui-codec-endpoint', options.ui.codecEndpoint);
  if (options.dbFile) {
    mkdirSync(path.dirname(options.dbFile), { recursive: true });
    // The dev server is one SQLite connection: without these pragmas a file database is very slow.
    args.push('--db-filename', options.dbFile, '--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=OFF');
  }
  if (options.namespace && options.namespace !== 'default') args.push('--namespace', options.namespace);
  // One partition per task queue: on a single machine, partition forwarding only adds dispatch latency.
  args.push('--dynamic-config-value', 'matching.numTaskqueueReadPartitions=1', '--dynamic-config-value', 'matching.numTaskqueueWritePartitions=1');
  for (const [key, value] of Object.entries(options.dynamicConfig ?? {})) args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  args.push(...devServerSearchAttributeFlags());
  mkdirSync(path.dirname(options.logFile), { recursive: true });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const child = spawn(options.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const address = `127.0.0.1:${options.port}`;
  const ready = connectToTemporal(address, options.startTimeoutMs ?? 60_000);
  const outcome = await Promise.race([ready.then((connection) => ({ connection })), exited.then((code) => ({ code }))]);
  if ('code' in outcome) {
    throw new Error(`the Temporal dev server exited with code ${outcome.code} before it was ready:\n${tail(options.logFile)}`);
  }
  await outcome.connection.close();
  return {
    address,
    process: child,
    ...(options.uiPort ? { uiUrl: `http://127.0.0.1:${options.uiPort}${options.ui?.publicPath ?? ''}` } : {}),
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 10_000))]);
      if (!stopped) child.kill('SIGKILL');
      log.end();
    },
  };
}

export interface EnsureTemporalOptions {
  temporalAddress?: string;
  namespace: string;
  port: number;
  uiPort?: number;
  ui?: TemporalUiOptions;
  httpPort?: number;
  dataDir: string;
  searchPath: string;
  cacheBinDir: string;
  log(line: string): void;
}

/**
 * TEMPORAL_ADDRESS if set; else a `temporal` binary from PATH or the cache;
 * else one built with Go; else the SDK's own download. Registers the search
 * attributes runs need in every case.
 */
export async function ensureTemporal(options: EnsureTemporalOptions): Promise<RunningTemporal> {
  let running: RunningTemporal;
  if (options.temporalAddress) {
    running = { address: options.temporalAddress, stop: async () => {} };
  } else {
    const binary = findTemporalBinary(options.searchPath, options.cacheBinDir) ?? buildTemporalWithGo(options.cacheBinDir, options.log);
    if (binary) {
      running = await startDevServer({
        binary,
        port: options.port,
        uiPort: options.uiPort,
        ...(options.ui ? { ui: options.ui } : {}),
        httpPort: options.httpPort,
        dbFile: path.join(options.dataDir, 'temporal', 'dev-server.db'),
        logFile: path.join(options.dataDir, 'logs', 'temporal.log'),
        namespace: options.namespace,
      });
    } else {
      options.log('No temporal binary and no Go: falling back to the SDK download of the dev server.');
      const { TestWorkflowEnvironment } = await import('@temporalio/testing');
      const environment = await TestWorkflowEnvironment.createLocal({ server: { namespace: options.namespace } });
      running = { address: environment.address, stop: () => environment.teardown() };
    }
  }
  // A server of our own is up by now; another one (TEMPORAL_ADDRESS) is waited for as long as it takes.
  const connection = options.temporalAddress ? await waitForTemporal(running.address, options.log) : await connectToTemporal(running.address, 30_000);
  try {
    const added = await registerSearchAttributes(connection, options.namespace);
    if (added.length > 0) options.log(`Registered search attributes: ${added.join(', ')}`);
  } finally {
    await connection.close();
  }
  return running;
}
