// Our Compose corpus (test/fixtures/compose) against Docker itself: each file
// is deployed by `docker stack deploy --resolve-image never` and by Jarvis on
// the same Swarm, one after the other; the verdicts must agree, and for a file
// both accept, the services Swarm holds must be the same, field by field, once
// the stack name (and Jarvis's digest in secret and config names) is set aside.
// Used by test/compose-compat.test.ts and bench/compose.ts.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';
import { PROJECT_ROOT } from '../config/env.js';
import { collectReferencedFiles } from '../infra/compose/stack-input.js';
import { parseEnvFile } from '../infra/compose/interpolate.js';
import { planStack } from '../infra/compose/stack-plan.js';
import { applyStackPlan, removeStack } from '../infra/swarm-stack.js';

export const CORPUS_DIR = path.join(PROJECT_ROOT, 'test', 'fixtures', 'compose');

export interface CorpusEntry {
  file: string;
  description: string;
  variables: Record<string, string>;
  envFile?: string;
  expect: 'accepted' | 'refused';
  reason?: string;
  warnings?: string[];
  needs?: Array<{ kind: 'network' | 'secret' | 'config' | 'volume'; name: string }>;
}

export interface CorpusResult {
  file: string;
  expected: 'accepted' | 'refused';
  docker: { verdict: 'accepted' | 'refused'; output: string };
  jarvis: { verdict: 'accepted' | 'refused'; reasons: string[]; warnings: string[] };
  /** Paths in the services' specs where Jarvis's and Docker's differ. */
  mismatches: string[];
  services: number;
}

export const loadCorpus = (): CorpusEntry[] => JSON.parse(readFileSync(path.join(CORPUS_DIR, 'corpus.json'), 'utf8')) as CorpusEntry[];

/** Another run on the same Swarm (a second checkout's tests) names its stacks apart. */
const RUN = Math.random().toString(36).slice(2, 6);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class CorpusChecker {
  private readonly docker: Docker;

  constructor(private readonly socketPath: string) {
    this.docker = new Docker({ socketPath });
  }

  private cli(args: string[], options: { cwd?: string; env?: Record<string, string>; input?: string } = {}) {
    const result = spawnSync('docker', ['-H', `unix://${this.socketPath}`, ...args], {
      encoding: 'utf8',
      cwd: options.cwd,
      env: options.env ?? { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' },
      input: options.input,
    });
    return { code: result.status ?? 1, output: `${result.stdout}${result.stderr}` };
  }

  private createNeeds(entry: CorpusEntry) {
    for (const need of entry.needs ?? []) {
      if (need.kind === 'network') this.cli(['network', 'create', '-d', 'overlay', '--attachable', need.name]);
      else if (need.kind === 'volume') this.cli(['volume', 'create', need.name]);
      else this.cli([need.kind, 'create', need.name, '-'], { input: `corpus fake ${need.kind}\n` });
    }
  }

  private async removeNeeds(entry: CorpusEntry) {
    for (const need of entry.needs ?? []) {
      for (let attempt = 0; attempt < 30; attempt++) {
        const removed = this.cli([need.kind, 'rm', need.name]);
        if (removed.code === 0 || /no such|not found/i.test(removed.output)) break;
        await sleep(1_000); // tasks of a removed stack may still hold it
      }
    }
  }

  /** Removes a stack and waits until Swarm holds nothing of it (its networks go away after the services). */
  async removeAndWait(stack: string) {
    await removeStack(this.docker, stack, () => undefined).catch(() => undefined);
    const label = { filters: { label: [`com.docker.stack.namespace=${stack}`] } };
    for (let attempt = 0; attempt < 60; attempt++) {
      const [services, networks, secrets, configs] = await Promise.all([
        this.docker.listServices(label),
        this.docker.listNetworks(label),
        this.docker.listSecrets(label),
        this.docker.listConfigs(label),
      ]);
      for (const network of networks)
        await this.docker
          .getNetwork(network.Id)
          .remove()
          .catch(() => undefined);
      if (services.length + networks.length + secrets.length + configs.length === 0) return;
      await sleep(1_000);
    }
    throw new Error(`stack ${stack} still holds resources after a minute`);
  }

  /** The services of a stack as Swarm holds them, with the stack's name (and digests) taken out. */
  private async specsOf(stack: string): Promise<Record<string, unknown>> {
    const services = await this.docker.listServices({ filters: { label: [`com.docker.stack.namespace=${stack}`] } });
    const networkNames = new Map((await this.docker.listNetworks()).map((network) => [network.Id, network.Name]));
    const rename = (text: string) =>
      text
        .replace(new RegExp(`^${stack}_(.*?)(_[0-9a-f]{10})?$`), 'STACK_$1')
        .replaceAll(`${stack}_`, 'STACK_')
        .replace(new RegExp(`^${stack}$`), 'STACK');
    const normalize = (value: unknown, key = ''): unknown => {
      if (typeof value === 'string') return rename(key === 'Target' ? (networkNames.get(value) ?? value) : value);
      if (Array.isArray(value)) {
        const items = value.map((item) => normalize(item)).filter((item) => item !== undefined);
        return items.length === 0 ? undefined : items;
      }
      if (value !== null && typeof value === 'object') {
        const entries = Object.entries(value)
          .filter(([field]) => field !== 'SecretID' && field !== 'ConfigID')
          .map(([field, item]) => [field, normalize(item, field)] as const)
          .filter(([, item]) => item !== undefined && item !== '' && item !== false && item !== 0);
        return entries.length === 0 ? undefined : Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)));
      }
      return value ?? undefined;
    };
    const sortedLists = (spec: Record<string, unknown>) => {
      const container = ((spec.TaskTemplate as Record<string, unknown> | undefined)?.ContainerSpec ?? {}) as Record<string, unknown>;
      for (const field of ['Env', 'Mounts', 'Secrets', 'Configs']) {
        if (Array.isArray(container[field])) (container[field] as unknown[]).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
      }
      const ports = (spec.EndpointSpec as { Ports?: unknown[] } | undefined)?.Ports;
      ports?.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
      return spec;
    };
    return Object.fromEntries(services.map((service) => [rename(service.Spec?.Name ?? service.ID), sortedLists(normalize(service.Spec) as Record<string, unknown>)]));
  }

  async check(entry: CorpusEntry, index: number): Promise<CorpusResult> {
    const directory = path.join(CORPUS_DIR, path.dirname(entry.file));
    const text = readFileSync(path.join(CORPUS_DIR, entry.file), 'utf8');
    const envFile = entry.envFile ? readFileSync(path.join(directory, entry.envFile), 'utf8') : undefined;
    const fromEnvFile = Object.fromEntries(envFile ? parseEnvFile(envFile, () => undefined, entry.envFile ?? '') : []);
    const dockerStack = `corpusd${index}${RUN}`;
    const jarvisStack = `corpusj${index}${RUN}`;
    this.createNeeds(entry);
    try {
      // Docker, with exactly the entry's variables in its environment (and the env file's, which the runner loads as Jarvis does).
      const environment = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...fromEnvFile, ...entry.variables };
      const deployed = this.cli(['stack', 'deploy', '--resolve-image', 'never', '-c', path.basename(entry.file), dockerStack], { cwd: directory, env: environment });
      const dockerVerdict = deployed.code === 0 ? 'accepted' : 'refused';
      const dockerSpecs = dockerVerdict === 'accepted' ? await this.specsOf(dockerStack) : {};
      await this.removeAndWait(dockerStack);

      // Jarvis, from the same file, variables and files next to it.
      const files = await collectReferencedFiles(text, { ...fromEnvFile, ...entry.variables }, (name) => {
        try {
          return readFileSync(path.join(directory, name), 'utf8');
        } catch {
          return undefined; // the plan says which file is missing
        }
      });
      const planned = planStack({ text, stack: jarvisStack, variables: entry.variables, files, workingDir: directory, ...(envFile !== undefined ? { envFile } : {}) });
      let jarvisVerdict: 'accepted' | 'refused' = planned.ok ? 'accepted' : 'refused';
      const reasons = planned.ok ? [] : planned.errors.map((error) => `${error.path}: ${error.message}`);
      const warnings = (planned.ok ? planned.plan.warnings : planned.warnings).map((warning) => `${warning.path}: ${warning.message}`);
      let jarvisSpecs: Record<string, unknown> = {};
      if (planned.ok) {
        try {
          await applyStackPlan(this.docker, planned.plan, { resolveSecret: async () => '', log: () => undefined });
          jarvisSpecs = await this.specsOf(jarvisStack);
        } catch (error) {
          jarvisVerdict = 'refused';
          reasons.push(`the engine refused: ${(error as Error).message}`);
        }
      }
      await this.removeAndWait(jarvisStack);

      const mismatches = dockerVerdict === 'accepted' && jarvisVerdict === 'accepted' ? differences(dockerSpecs, jarvisSpecs) : [];
      return {
        file: entry.file,
        expected: entry.expect,
        docker: { verdict: dockerVerdict, output: deployed.output.trim() },
        jarvis: { verdict: jarvisVerdict, reasons, warnings },
        mismatches,
        services: Object.keys(dockerSpecs).length,
      };
    } finally {
      await this.removeNeeds(entry);
    }
  }
}

/** The paths where two JSON values differ (`services.STACK_web.TaskTemplate.ContainerSpec.Env: docker [...] jarvis [...]`). */
export function differences(docker: unknown, jarvis: unknown, at = ''): string[] {
  if (JSON.stringify(docker) === JSON.stringify(jarvis)) return [];
  const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
  if (isObject(docker) && isObject(jarvis)) {
    const keys = [...new Set([...Object.keys(docker), ...Object.keys(jarvis)])].sort();
    return keys.flatMap((key) => differences(docker[key], jarvis[key], at ? `${at}.${key}` : key));
  }
  return [`${at}: docker ${JSON.stringify(docker)} jarvis ${JSON.stringify(jarvis)}`];
}
