// A Compose file turned into what `docker stack deploy` would ask the Docker
// Engine for: the networks to create, the secrets and configs to create, and a
// ServiceSpec per service. Pure code, no engine: validation and `jarvis stacks
// validate` print this plan; the deploy applies it.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { parseDocument, LineCounter, type Document } from 'yaml';
import type Docker from 'dockerode';
import type { z } from 'zod';
import { formatPath, type ManifestError } from '../../manifest/errors.js';
import { FORBIDDEN_FIELDS, IGNORED_FIELDS, composeFileSchema, type ComposeFile, type ComposeService } from './compose-schema.js';
import { interpolateCompose, InterpolationError, parseEnvFile, type Lookup } from './interpolate.js';
import { fileKey } from './stack-input.js';
import { declaredMinor, fieldsNewerThan } from './versions.js';
import { goDurationNanos, nanoCpus, ramInBytes, type ServiceVolume } from './units.js';

export const STACK_LABEL = 'com.docker.stack.namespace';
export const IMAGE_LABEL = 'com.docker.stack.image';
const STACK_NAME = /^[a-z0-9][a-z0-9_-]{0,39}$/;

export interface ComposeSource {
  /** The Compose file's text. */
  text: string;
  /** The stack's name (as `docker stack deploy NAME`). */
  stack: string;
  /** Variables for `${VAR}` interpolation and for `environment` entries without a value. */
  variables?: Record<string, string>;
  /** An env file's text (`KEY=value` lines) for interpolation; `variables` win over it. */
  envFile?: string;
  /** Files the Compose file names (env_file, secrets and configs `file:`), by their path relative to it. */
  files?: Record<string, string>;
  /** The directory relative bind mounts are resolved against (the Compose file's own, as Docker does). */
  workingDir?: string;
}

/** A Swarm secret or config the deploy creates from a file or a connection (its name carries a digest of the data). */
export interface PlannedObject {
  key: string;
  name: string;
  external: boolean;
  labels: Record<string, string>;
  /** Its data is this Jarvis connection's secret, read at deploy time (`x-jarvis: { connection }`). */
  connection?: string;
  /** The file gave `name:`: kept as written instead of carrying a digest. */
  fixedName?: boolean;
  /** base64 data, absent for external ones. */
  data?: string;
  sha256?: string;
  size?: number;
  templateDriver?: string;
}

export interface PlannedNetwork {
  key: string;
  name: string;
  external: boolean;
  create?: {
    Name: string;
    Driver: string;
    Labels: Record<string, string>;
    Options?: Record<string, string>;
    Internal?: boolean;
    Attachable?: boolean;
    IPAM?: { Driver?: string; Config?: Array<{ Subnet: string }> };
  };
}

export interface ConnectionSecret {
  connection: string;
  file?: string;
  env?: string;
}

export interface PlannedService {
  key: string;
  spec: Docker.ServiceSpec;
  /** Secrets of Jarvis connections, resolved at deploy time (never in the plan). */
  connectionSecrets: ConnectionSecret[];
}

export interface StackPlan {
  stack: string;
  services: PlannedService[];
  networks: PlannedNetwork[];
  secrets: PlannedObject[];
  configs: PlannedObject[];
  warnings: ManifestError[];
}

export type StackPlanResult = { ok: true; plan: StackPlan } | { ok: false; errors: ManifestError[]; warnings: ManifestError[] };

const scope = (stack: string, name: string) => `${stack}_${name}`;

/**
 * A Swarm secret's or config's name for some data: Swarm cannot change them, so the name carries
 * a digest of the data, and changed data makes a new one the services roll over to.
 */
export const digestName = (base: string, data: Buffer) => `${base}_${createHash('sha256').update(data).digest('hex').slice(0, 10)}`;
const withStackLabel = (stack: string, labels: Record<string, string | null> | undefined): Record<string, string> => ({
  ...Object.fromEntries(Object.entries(labels ?? {}).map(([key, value]) => [key, value ?? ''])),
  [STACK_LABEL]: stack,
});
const defined = <T extends object>(value: T): T => Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
const sortedEnv = (env: Record<string, string | null>) =>
  Object.entries(env)
    .map(([key, value]) => (value === null ? key : `${key}=${value}`))
    .sort();

/** The legacy YAML 1.1 octal (`0440`) Docker's YAML reader accepts, besides YAML 1.2's `0o440`. */
const legacyOctal = {
  identify: (value: unknown) => typeof value === 'number',
  default: true,
  tag: 'tag:yaml.org,2002:int',
  format: 'OCT',
  test: /^0[0-7]+$/,
  resolve: (text: string) => parseInt(text, 8),
};

/**
 * The issues of the alternative that fits an invalid union: when a value has the type of one
 * alternative (a mapping where a mapping or a string may be), its own mistakes are what to say,
 * not "invalid input".
 */
function innermost(issue: z.core.$ZodIssue, base: PropertyKey[] = []): Array<{ path: PropertyKey[]; code: string; message: string }> {
  const path = [...base, ...issue.path];
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [{ path, code: issue.code, message: issue.message }];
  const fitting = issue.errors.filter((branch) => !branch.some((inner) => inner.path.length === 0 && inner.code === 'invalid_type'));
  if (fitting.length !== 1) return [{ path, code: issue.code, message: issue.message }];
  return fitting[0]!.flatMap((inner) => innermost(inner, path));
}

/** Where a path is in the YAML text, to point the user at the line. */
function locate(document: Document, counter: LineCounter, segments: PropertyKey[]): string {
  for (let length = segments.length; length >= 0; length--) {
    const node = document.getIn(segments.slice(0, length), true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) {
      const { line, col } = counter.linePos(node.range[0]);
      return `line ${line}, column ${col}`;
    }
  }
  return '';
}

function pathSegments(path: string): PropertyKey[] {
  return [...path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((match) => (match[2] !== undefined ? Number(match[2]) : (match[1] ?? '')));
}

class PlanBuilder {
  readonly errors: ManifestError[] = [];
  readonly warnings: ManifestError[] = [];
  private readonly lookup: Lookup;

  constructor(private readonly source: ComposeSource) {
    const fromEnvFile = new Map<string, string>();
    if (source.envFile !== undefined) {
      try {
        for (const [key, value] of parseEnvFile(source.envFile, () => undefined, 'the env file')) fromEnvFile.set(key, value);
      } catch (error) {
        this.errors.push({ path: '(env file)', message: (error as Error).message });
      }
    }
    this.lookup = (name) => source.variables?.[name] ?? fromEnvFile.get(name);
  }

  fail(path: PropertyKey[] | string, message: string) {
    this.errors.push({ path: typeof path === 'string' ? path : formatPath(path), message });
  }

  warn(path: PropertyKey[] | string, message: string) {
    this.warnings.push({ path: typeof path === 'string' ? path : formatPath(path), message });
  }

  readFile(name: string, at: PropertyKey[]): string | undefined {
    const key = fileKey(name);
    const content = this.source.files?.[key] ?? this.source.files?.[name];
    if (content === undefined) {
      this.fail(at, `the file ${name} was not provided (jarvis stacks validate and deploy send the files next to the Compose file; through the API give it in files["${key}"])`);
    }
    return content;
  }

  build(): StackPlanResult {
    const { stack } = this.source;
    if (!STACK_NAME.test(stack)) this.fail('(stack name)', `"${stack}" is not a stack name: lower-case letters, digits, - and _, at most 40, starting with a letter or digit`);
    const counter = new LineCounter();
    const document = parseDocument(this.source.text, { merge: true, lineCounter: counter, customTags: (tags) => [legacyOctal, ...tags], uniqueKeys: true, prettyErrors: false });
    if (document.errors.length > 0) {
      for (const error of document.errors) {
        const { line, col } = counter.linePos(error.pos[0]);
        this.fail('(yaml)', `line ${line}, column ${col}: ${error.message.split('\n')[0]}`);
      }
      return this.result();
    }
    let raw: unknown;
    try {
      // Aliases are expanded a bounded number of times: a "billion laughs" file is refused, not expanded.
      raw = document.toJS({ maxAliasCount: 200 }) as unknown;
    } catch (error) {
      this.fail('(yaml)', (error as Error).message);
      return this.result();
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      this.fail('(root)', 'a Compose file is a mapping with services (and networks, volumes, secrets, configs)');
      return this.result();
    }
    const top = raw as Record<string, unknown>;
    if ('name' in top) this.fail('name', "the stack name is not written in the file: it is given when deploying (jarvis stacks deploy --name NAME, or the run's name input)");
    if ('include' in top || 'models' in top) this.fail(Object.keys(top).find((key) => key === 'include' || key === 'models') ?? '', 'not supported by docker stack deploy');
    if ('version' in top) {
      const declared = declaredMinor(top.version);
      if ('error' in declared) this.fail('version', declared.error);
      else this.errors.push(...fieldsNewerThan(top, declared.minor));
    }
    if (top.services === undefined) this.fail('services', 'required: a stack needs at least one service');
    for (const [serviceName, service] of Object.entries((top.services ?? {}) as Record<string, unknown>)) {
      if (service === null || typeof service !== 'object') continue;
      for (const key of Object.keys(service)) {
        const reason = FORBIDDEN_FIELDS[key];
        if (reason) this.fail(['services', serviceName, key], `not supported on Swarm: ${reason}`);
      }
    }
    if (this.errors.length > 0) return this.result(document, counter);

    const interpolated = interpolateCompose(raw, this.lookup, this.errors);
    if (this.errors.length > 0) return this.result(document, counter);
    const parsed = composeFileSchema.safeParse(interpolated);
    if (!parsed.success) {
      const valueAt = (segments: PropertyKey[]) =>
        segments.reduce<unknown>((value, segment) => (value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[segment] : undefined), interpolated);
      for (const issue of parsed.error.issues.flatMap((found) => innermost(found)))
        this.fail(issue.path, issue.code === 'invalid_type' && valueAt(issue.path) === undefined ? 'required' : issue.message);
      return this.result(document, counter);
    }
    const plan = this.plan(parsed.data);
    return this.errors.length > 0 ? this.result(document, counter) : { ok: true, plan };
  }

  private result(document?: Document, counter?: LineCounter): StackPlanResult {
    const place = (error: ManifestError): ManifestError => {
      if (!document || !counter || error.path.startsWith('(')) return error;
      const where = locate(document, counter, pathSegments(error.path));
      return where ? { ...error, message: `${error.message} (${where})` } : error;
    };
    return { ok: false, errors: this.errors.map(place), warnings: this.warnings };
  }

  private plan(file: ComposeFile): StackPlan {
    const { stack } = this.source;
    const services = Object.entries(file.services).sort(([a], [b]) => a.localeCompare(b));
    if (services.length === 0) this.fail('services', 'a stack needs at least one service');
    const secrets = this.fileObjects('secrets', file.secrets ?? {});
    const configs = this.fileObjects('configs', file.configs ?? {});
    const usedNetworks = new Set<string>();
    const planned = services.map(([key, service]) => {
      for (const network of Object.keys(service.networks ?? { default: null })) usedNetworks.add(network);
      return this.service(file, key, service, secrets, configs);
    });
    return { stack, services: planned, networks: this.networks(file, usedNetworks), secrets, configs, warnings: this.warnings };
  }

  private fileObjects(kind: 'secrets' | 'configs', objects: NonNullable<ComposeFile['secrets']>): PlannedObject[] {
    const { stack } = this.source;
    return Object.entries(objects)
      .sort(([a], [b]) => a.localeCompare(b))
      .flatMap(([key, object]): PlannedObject[] => {
        const at = [kind, key];
        if (object.external?.external) {
          if (object.file !== undefined) this.fail([...at, 'file'], `conflicts with external: an external ${kind.slice(0, -1)} already exists in the Swarm`);
          return [{ key, name: object.external.name ?? object.name ?? key, external: true, labels: {} }];
        }
        const fromConnection = object['x-jarvis']?.connection;
        if (fromConnection !== undefined) {
          if (object.file !== undefined) this.fail([...at, 'file'], 'conflicts with x-jarvis.connection: the data comes from the connection');
          // Named when deployed, after the connection's value (a digest of it): this name stands for it until then.
          return [
            {
              key,
              name: object.name ?? scope(stack, key),
              external: false,
              labels: withStackLabel(stack, object.labels),
              connection: fromConnection,
              ...(object.name !== undefined ? { fixedName: true } : {}),
            },
          ];
        }
        if ('driver' in object && object.driver) {
          this.fail([...at, 'driver'], `${kind} drivers are not supported by Jarvis: use file, external, or a connection under x-jarvis`);
          return [];
        }
        if (object.file === undefined) {
          this.fail(at, `give file (a file next to the Compose file) or external: true`);
          return [];
        }
        const content = this.readFile(object.file, [...at, 'file']);
        if (content === undefined) return [];
        const data = Buffer.from(content);
        const name = object.name ?? digestName(scope(stack, key), data);
        return [
          {
            key,
            name,
            external: false,
            labels: withStackLabel(stack, object.labels),
            data: data.toString('base64'),
            sha256: createHash('sha256').update(data).digest('hex'),
            size: data.length,
            ...(object.template_driver ? { templateDriver: object.template_driver } : {}),
          },
        ];
      });
  }

  private networks(file: ComposeFile, used: Set<string>): PlannedNetwork[] {
    const { stack } = this.source;
    return [...used].sort().flatMap((key): PlannedNetwork[] => {
      const network = file.networks?.[key] ?? null;
      if (!network && key !== 'default' && !(file.networks && key in file.networks)) return [];
      if (network?.external?.external) return [{ key, name: network.external.name ?? network.name ?? key, external: true }];
      const name = network?.name ?? scope(stack, key);
      return [
        {
          key,
          name,
          external: false,
          create: defined({
            Name: name,
            Driver: network?.driver ?? 'overlay',
            Labels: withStackLabel(stack, network?.labels),
            Options: network?.driver_opts,
            Internal: network?.internal,
            Attachable: network?.attachable,
            IPAM: network?.ipam ? defined({ Driver: network.ipam.driver, Config: network.ipam.config?.map((entry) => ({ Subnet: entry.subnet ?? '' })) }) : undefined,
          }),
        },
      ];
    });
  }

  private environment(key: string, service: ComposeService): Record<string, string | null> {
    const environment: Record<string, string | null> = {};
    const put = (name: string, value: string | null) => {
      // A variable without a value takes the stack variable of that name, as Docker takes the shell's.
      const fromVariables = this.lookup(name);
      environment[name] = (value === null || value === '') && fromVariables !== undefined ? fromVariables : value;
    };
    (service.env_file ?? []).forEach((name, index) => {
      const content = this.readFile(name, ['services', key, 'env_file', ...(service.env_file && service.env_file.length > 1 ? [index] : [])]);
      if (content === undefined) return;
      try {
        for (const [variable, value] of parseEnvFile(content, this.lookup, name)) put(variable, value);
      } catch (error) {
        if (!(error instanceof InterpolationError)) throw error;
        this.fail(['services', key, 'env_file'], error.message);
      }
    });
    for (const [name, value] of Object.entries(service.environment ?? {})) put(name, value);
    return environment;
  }

  private mounts(key: string, service: ComposeService, file: ComposeFile) {
    const { stack } = this.source;
    return (service.volumes ?? []).map((volume: ServiceVolume, index) => {
      const at = ['services', key, 'volumes', index];
      const base = defined({ Type: volume.type, Target: volume.target, Source: volume.source, ReadOnly: volume.read_only || undefined, Consistency: volume.consistency });
      if (!volume.target) this.fail(at, 'a mount needs a target path in the container');
      if (volume.type === 'volume') {
        if (volume.bind || volume.tmpfs) this.fail(at, `${volume.bind ? 'bind' : 'tmpfs'} options are incompatible with type volume`);
        if (!volume.source) return base;
        const declared = file.volumes && volume.source in file.volumes ? (file.volumes[volume.source] ?? {}) : undefined;
        if (declared === undefined) {
          this.fail(at, `undefined volume "${volume.source}": declare it under the top-level volumes (or use a path starting with / or ./ for a bind mount)`);
          return base;
        }
        const source = declared.external?.external ? (declared.external.name ?? declared.name ?? volume.source) : (declared.name ?? scope(stack, volume.source));
        const options = defined({
          NoCopy: volume.volume?.nocopy || undefined,
          Labels: declared.external?.external ? undefined : withStackLabel(stack, declared.labels),
          DriverConfig: !declared.external?.external && (declared.driver || declared.driver_opts) ? defined({ Name: declared.driver, Options: declared.driver_opts }) : undefined,
        });
        return { ...base, Source: source, VolumeOptions: options };
      }
      if (volume.type === 'bind') {
        if (!volume.source) {
          this.fail(at, 'a bind mount needs a source path on the node');
          return base;
        }
        let source = volume.source;
        if (source.startsWith('~')) {
          const home = this.lookup('HOME');
          if (home) source = home + source.slice(1);
        }
        if (!source.startsWith('/')) {
          if (this.source.workingDir) source = path.posix.join(this.source.workingDir, source);
          else this.fail(at, `the relative bind source "${volume.source}" has no directory to be relative to: write the absolute path on the nodes`);
        }
        return defined({ ...base, Source: source, BindOptions: volume.bind?.propagation ? { Propagation: volume.bind.propagation } : undefined });
      }
      if (volume.type === 'tmpfs') {
        if (volume.source) this.fail(at, 'a tmpfs mount has no source');
        const size = volume.tmpfs?.size;
        return defined({ ...base, TmpfsOptions: size !== undefined ? { SizeBytes: ramInBytes(size) } : undefined });
      }
      this.fail([...at, 'type'], `${volume.type} mounts are not supported by Jarvis: use volume, bind or tmpfs`);
      return base;
    });
  }

  private service(file: ComposeFile, key: string, service: ComposeService, secrets: PlannedObject[], configs: PlannedObject[]): PlannedService {
    const { stack } = this.source;
    const at = (...rest: PropertyKey[]) => ['services', key, ...rest];
    for (const field of Object.keys(IGNORED_FIELDS)) {
      if ((service as Record<string, unknown>)[field] !== undefined && !(field === 'build' && service.image === undefined)) this.warn(at(field), `ignored by Swarm: ${IGNORED_FIELDS[field]}`);
    }
    if (service.image === undefined) {
      this.fail(at('image'), service.build !== undefined ? 'required: Swarm cannot build images; build and push it, then name it in image' : 'required: the image to run');
    }
    const deploy = service.deploy ?? {};
    const jarvis = service['x-jarvis'] ?? { routes: [], secrets: [] };
    const mode = deploy.mode ?? 'replicated';
    if ((mode === 'global' || mode === 'global-job') && deploy.replicas !== undefined) this.fail(at('deploy', 'replicas'), 'replicas can only be used with replicated or replicated-job mode');

    const networkAttachments = Object.entries(service.networks ?? { default: null }).map(([name, options]) => {
      const declared = file.networks && name in file.networks ? (file.networks[name] ?? {}) : undefined;
      if (declared === undefined && name !== 'default') this.fail(at('networks', name), `undefined network "${name}": declare it under the top-level networks`);
      const target = declared?.external?.external ? (declared.external.name ?? declared.name ?? name) : (declared?.name ?? scope(stack, name));
      const userDefined = !['host', 'bridge', 'none', 'default'].includes(target) && !target.startsWith('container:');
      const aliases = [...(options?.aliases ?? []), ...(userDefined ? [key] : [])];
      return defined({
        Target: target,
        Aliases: aliases.length > 0 ? aliases : undefined,
        DriverOpts: options?.driver_opts ? Object.fromEntries(Object.entries(options.driver_opts).map(([option, value]) => [option, String(value)])) : undefined,
      });
    });
    networkAttachments.sort((a, b) => (a.Target < b.Target ? -1 : a.Target > b.Target ? 1 : 0));

    const references = (kind: 'secrets' | 'configs', planned: PlannedObject[]) =>
      (service[kind] ?? [])
        .map((reference, index) => {
          const object = planned.find((candidate) => candidate.key === reference.source);
          const declared = (kind === 'secrets' ? file.secrets : file.configs)?.[reference.source];
          if (!declared) this.fail(at(kind, index), `undefined ${kind.slice(0, -1)} "${reference.source}": declare it under the top-level ${kind}`);
          const name = object?.name ?? scope(stack, reference.source);
          const fileTarget = { Name: reference.target ?? reference.source, UID: reference.uid ?? '0', GID: reference.gid ?? '0', Mode: reference.mode ?? 0o444 };
          return kind === 'secrets' ? { File: fileTarget, SecretName: name } : { File: fileTarget, ConfigName: name };
        })
        .sort((a, b) => {
          const left = ('SecretName' in a ? a.SecretName : a.ConfigName) ?? '';
          const right = ('SecretName' in b ? b.SecretName : b.ConfigName) ?? '';
          return left < right ? -1 : left > right ? 1 : 0;
        });

    const healthcheck = service.healthcheck;
    let health: Record<string, unknown> | undefined;
    if (healthcheck) {
      const test = typeof healthcheck.test === 'string' ? ['CMD-SHELL', healthcheck.test] : healthcheck.test;
      if (healthcheck.disable) {
        if (test && test.length > 0) this.fail(at('healthcheck'), "test and disable can't be set at the same time");
        health = { Test: ['NONE'] };
      } else {
        health = defined({
          Test: test,
          Interval: healthcheck.interval !== undefined ? goDurationNanos(healthcheck.interval) : undefined,
          Timeout: healthcheck.timeout !== undefined ? goDurationNanos(healthcheck.timeout) : undefined,
          StartPeriod: healthcheck.start_period !== undefined ? goDurationNanos(healthcheck.start_period) : undefined,
          StartInterval: healthcheck.start_interval !== undefined ? goDurationNanos(healthcheck.start_interval) : undefined,
          Retries: healthcheck.retries,
        });
      }
    }

    for (const port of service.ports ?? []) {
      if (port.ignoredAddress) this.warn(at('ports'), `Swarm publishes on every address: ${port.ignoredAddress} is ignored for port ${port.PublishedPort ?? ''}:${port.TargetPort}`);
    }

    const environment = this.environment(key, service);
    for (const secret of jarvis.secrets) {
      if (secret.env && secret.env in environment) this.fail(at('x-jarvis', 'secrets'), `${secret.env} is also set in environment`);
    }

    /** A CPU count or memory size read with its unit; a mistake is reported at its path. */
    const unit = (parse: (text: string) => number) => (value: string | undefined, path: PropertyKey[]) => {
      if (value === undefined) return undefined;
      try {
        return parse(value);
      } catch (error) {
        this.fail(path, (error as Error).message);
        return undefined;
      }
    };
    const cpu = unit(nanoCpus);
    const memory = unit(ramInBytes);
    const limits = deploy.resources?.limits;
    const reservations = deploy.resources?.reservations;
    const resources = defined({
      Limits: limits
        ? defined({ NanoCPUs: cpu(limits.cpus, at('deploy', 'resources', 'limits', 'cpus')), MemoryBytes: memory(limits.memory, at('deploy', 'resources', 'limits', 'memory')), Pids: limits.pids })
        : undefined,
      Reservations: reservations
        ? defined({
            NanoCPUs: cpu(reservations.cpus, at('deploy', 'resources', 'reservations', 'cpus')),
            MemoryBytes: memory(reservations.memory, at('deploy', 'resources', 'reservations', 'memory')),
            GenericResources: reservations.generic_resources?.map((resource) => ({
              DiscreteResourceSpec: { Kind: resource.discrete_resource_spec?.kind, Value: resource.discrete_resource_spec?.value },
            })),
          })
        : undefined,
    });

    const policy = (source: typeof deploy.update_config) =>
      source
        ? defined({
            Parallelism: source.parallelism ?? 1,
            Delay: source.delay !== undefined ? goDurationNanos(source.delay) : undefined,
            FailureAction: source.failure_action,
            Monitor: source.monitor !== undefined ? goDurationNanos(source.monitor) : undefined,
            MaxFailureRatio: source.max_failure_ratio,
            Order: source.order,
          })
        : undefined;

    const ulimits = Object.entries(service.ulimits ?? {})
      .map(([name, value]) => (typeof value === 'number' ? { Name: name, Soft: value, Hard: value } : { Name: name, Soft: value.soft, Hard: value.hard }))
      .sort((a, b) => a.Name.localeCompare(b.Name));

    const labels = { ...withStackLabel(stack, deploy.labels), ...traefikLabels(stack, key, jarvis.routes) };
    labels[IMAGE_LABEL] = service.image ?? '';
    const extraHosts = Object.entries(service.extra_hosts ?? {}).map(([host, address]) => `${(address ?? '').replace(/^\[(.*)\]$/, '$1')} ${host}`);
    const capabilities = effectiveCapabilities(service.cap_add ?? [], service.cap_drop ?? []);

    const spec = {
      Name: scope(stack, key),
      Labels: labels,
      TaskTemplate: defined({
        ContainerSpec: defined({
          Image: service.image ?? '',
          Command: service.entrypoint,
          Args: service.command,
          Hostname: service.hostname,
          Hosts: extraHosts.length > 0 ? extraHosts : undefined,
          DNSConfig: service.dns || service.dns_search ? defined({ Nameservers: service.dns, Search: service.dns_search }) : undefined,
          Healthcheck: health,
          Env: sortedEnv(environment),
          Labels: withStackLabel(stack, service.labels),
          Dir: service.working_dir,
          User: service.user,
          Mounts: this.mounts(key, service, file),
          StopGracePeriod: service.stop_grace_period !== undefined ? goDurationNanos(service.stop_grace_period) : undefined,
          StopSignal: service.stop_signal,
          TTY: service.tty,
          OpenStdin: service.stdin_open,
          Secrets: references('secrets', secrets),
          Configs: references('configs', configs),
          ReadOnly: service.read_only,
          Isolation: service.isolation,
          Init: service.init,
          Sysctls: service.sysctls && Object.keys(service.sysctls).length > 0 ? service.sysctls : undefined,
          CapabilityAdd: capabilities.add,
          CapabilityDrop: capabilities.drop,
          Ulimits: ulimits.length > 0 ? ulimits : undefined,
          OomScoreAdj: service.oom_score_adj,
        }),
        LogDriver: service.logging
          ? defined({
              Name: service.logging.driver,
              Options: service.logging.options ? Object.fromEntries(Object.entries(service.logging.options).map(([option, value]) => [option, value === null ? '' : String(value)])) : undefined,
            })
          : undefined,
        Resources: resources,
        RestartPolicy: this.restartPolicy(key, service),
        Placement: defined({
          Constraints: deploy.placement?.constraints,
          Preferences: deploy.placement?.preferences?.map((preference) => ({ Spread: { SpreadDescriptor: preference.spread ?? '' } })),
          MaxReplicas: deploy.placement?.max_replicas_per_node,
        }),
        Networks: networkAttachments,
      }),
      Mode:
        mode === 'global'
          ? { Global: {} }
          : mode === 'global-job'
            ? { GlobalJob: {} }
            : mode === 'replicated-job'
              ? { ReplicatedJob: defined({ MaxConcurrent: deploy.replicas, TotalCompletions: deploy.replicas }) }
              : { Replicated: defined({ Replicas: deploy.replicas }) },
      UpdateConfig: policy(deploy.update_config),
      RollbackConfig: policy(deploy.rollback_config),
      EndpointSpec: defined({
        Mode: deploy.endpoint_mode,
        Ports: [...(service.ports ?? [])].map(({ ignoredAddress: _ignored, ...port }) => port).sort((a, b) => (a.PublishedPort ?? 0) - (b.PublishedPort ?? 0) || a.TargetPort - b.TargetPort),
      }),
    };
    return { key, spec: defined(spec) as Docker.ServiceSpec, connectionSecrets: jarvis.secrets.map((secret) => defined({ ...secret })) };
  }

  private restartPolicy(key: string, service: ComposeService) {
    const policy = service.deploy?.restart_policy;
    if (policy) {
      if (service.restart !== undefined) this.warn(['services', key, 'restart'], 'ignored: deploy.restart_policy is set');
      return defined({
        Condition: policy.condition,
        Delay: policy.delay !== undefined ? goDurationNanos(policy.delay) : undefined,
        MaxAttempts: policy.max_attempts,
        Window: policy.window !== undefined ? goDurationNanos(policy.window) : undefined,
      });
    }
    if (service.restart === undefined) return undefined;
    // Docker falls back to the container restart policy; it says to prefer deploy.restart_policy.
    this.warn(['services', key, 'restart'], 'read as the Swarm restart policy; prefer deploy.restart_policy');
    const [name = '', count] = service.restart.split(':');
    const attempts = count !== undefined ? Number(count) : 0;
    if (!Number.isInteger(attempts) || attempts < 0) this.fail(['services', key, 'restart'], 'the maximum retry count must be a whole number');
    if (name === 'no' || name === '') return undefined;
    if (name === 'always' || name === 'unless-stopped') return defined({ Condition: 'any', MaxAttempts: attempts > 0 ? attempts : undefined });
    if (name === 'on-failure') return defined({ Condition: 'on-failure', MaxAttempts: attempts > 0 ? attempts : undefined });
    this.fail(['services', key, 'restart'], `unknown restart policy "${name}" (no, always, on-failure or unless-stopped)`);
    return undefined;
  }
}

/** cap_add/cap_drop as Docker normalises them: upper-case, CAP_ prefixed, ALL wins, an added capability is not dropped. */
function effectiveCapabilities(add: string[], drop: string[]): { add?: string[]; drop?: string[] } {
  const normalize = (list: string[]) => [...new Set(list.map((cap) => cap.toUpperCase()).map((cap) => (cap === 'ALL' || cap.startsWith('CAP_') ? cap : `CAP_${cap}`)))];
  let added = normalize(add);
  let dropped = normalize(drop);
  if (added.includes('ALL')) added = ['ALL'];
  if (dropped.includes('ALL')) dropped = ['ALL'];
  dropped = dropped.filter((cap) => !added.includes(cap) || cap === 'ALL');
  if (added.includes('ALL')) dropped = dropped.filter((cap) => cap === 'ALL');
  added.sort();
  dropped.sort();
  return { ...(added.length > 0 ? { add: added } : {}), ...(dropped.length > 0 ? { drop: dropped } : {}) };
}

/** Traefik labels for a service's routes (Traefik reads them from Swarm services). */
export function traefikLabels(
  stack: string,
  service: string,
  routes: Array<{ host: string; path: string; port: number; tlsResolver?: string | undefined; entrypoints?: string[] | undefined }>,
): Record<string, string> {
  if (routes.length === 0) return {};
  const labels: Record<string, string> = { 'traefik.enable': 'true' };
  routes.forEach((entry, index) => {
    const router = `${stack}-${service}-${index}`;
    labels[`traefik.http.routers.${router}.rule`] = `Host(\`${entry.host}\`) && PathPrefix(\`${entry.path}\`)`;
    labels[`traefik.http.routers.${router}.service`] = router;
    labels[`traefik.http.services.${router}.loadbalancer.server.port`] = String(entry.port);
    if (entry.tlsResolver) labels[`traefik.http.routers.${router}.tls.certresolver`] = entry.tlsResolver;
    if (entry.entrypoints) labels[`traefik.http.routers.${router}.entrypoints`] = entry.entrypoints.join(',');
  });
  return labels;
}

/** Reads a Compose file as `docker stack deploy` would, into the plan of what a deploy creates. */
export function planStack(source: ComposeSource): StackPlanResult {
  return new PlanBuilder(source).build();
}

/** The plan as shown to users: the specs, never the data of secrets. */
export function describePlan(plan: StackPlan) {
  const withoutData = ({ data: _data, ...object }: PlannedObject) => object;
  return {
    stack: plan.stack,
    services: plan.services.map((service) => ({
      name: service.spec.Name ?? service.key,
      spec: service.spec,
      ...(service.connectionSecrets.length > 0 ? { connectionSecrets: service.connectionSecrets } : {}),
    })),
    networks: plan.networks,
    secrets: plan.secrets.map(withoutData),
    configs: plan.configs.map(withoutData),
    warnings: plan.warnings,
  };
}
