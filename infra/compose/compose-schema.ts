// The Compose file as `docker stack deploy` reads it (the 3.x format Docker's
// CLI validates, top-level `version` ignored), written as zod schemas that
// normalise the short forms: environment lists become maps, string commands
// are shell-split, short ports and volumes become long ones. Unknown fields
// are refused with their path and the nearest known field.
import { closest, distance } from 'fastest-levenshtein';
import { z } from 'zod';
import { checkImageReference, goDurationNanos, parseShortPort, parseShortVolume, shellSplit, UnitError, type PortConfig, type ServiceVolume } from './units.js';

/** "did you mean" for a field name that is close to a known one. */
export function unknownFieldMessage(key: string, known: readonly string[]): string {
  const near = known.length > 0 ? closest(key, [...known]) : undefined;
  const hint = near !== undefined && distance(key, near) <= Math.max(2, Math.floor(key.length / 3)) ? ` (did you mean "${near}"?)` : '';
  return `unknown field "${key}"${hint}`;
}

/**
 * A mapping whose fields are `shape`; other fields are refused with a hint (`x-*`
 * extension fields are kept where Compose allows them).
 */
function fields<Shape extends z.ZodRawShape>(shape: Shape, options: { extensions?: boolean } = {}) {
  const known = Object.keys(shape);
  return z
    .looseObject(shape)
    .superRefine((value, context) => {
      for (const key of Object.keys(value)) {
        if (known.includes(key) || (options.extensions && key.startsWith('x-'))) continue;
        context.addIssue({ code: 'custom', path: [key], message: unknownFieldMessage(key, known) });
      }
    })
    .transform((value) => {
      const kept: Record<string, unknown> = {};
      for (const key of known) if (key in value) kept[key] = (value as Record<string, unknown>)[key];
      return kept as z.output<z.ZodObject<Shape>>;
    });
}

const scalar = z.union([z.string(), z.number()], { error: 'must be a string or a number' });
const text = z.string({ error: 'must be a string' });
const integer = z.number({ error: 'must be an integer' }).int('must be an integer');
const bool = z.boolean({ error: 'must be true or false' });
const stringList = z.array(text, { error: 'must be a list of strings' });
const stringOrList = z.union([text, stringList], { error: 'must be a string or a list of strings' }).transform((value) => (typeof value === 'string' ? [value] : value));

/** A YAML number printed as Go's fmt.Sprint would (what Docker stores). */
const scalarText = (value: string | number) => String(value);

function unitCheck<T>(parse: (value: string) => T) {
  return (value: string, context: z.RefinementCtx) => {
    try {
      parse(value);
    } catch (error) {
      context.addIssue({ code: 'custom', message: error instanceof UnitError ? error.message : String(error) });
    }
  };
}

const duration = text.superRefine(unitCheck(goDurationNanos));

/** `KEY: value` or `- KEY=value`; a key without a value stays null (taken from the variables later). */
function listOrMap(separators: string[], options: { allowNull: boolean; name: string; sortMapping?: boolean }) {
  return z
    .union(
      [
        z.record(z.string(), z.union([scalar, z.null()], { error: `must be a string, a number or null` })),
        z.array(scalar).refine((items) => new Set(items).size === items.length, 'has duplicate entries'),
      ],
      { error: `must be a mapping or a list of ${options.name}` },
    )
    .transform((value): Record<string, string | null> => {
      if (!Array.isArray(value)) {
        const entries = Object.entries(value).map(([key, item]): [string, string | null] => [key, item === null ? (options.allowNull ? null : '') : scalarText(item)]);
        return Object.fromEntries(options.sortMapping ? entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) : entries);
      }
      const result: Record<string, string | null> = {};
      for (const entry of value.map(String)) {
        // The first separator (in the order given) that the entry contains splits it, as Docker does.
        const separator = separators.find((candidate) => entry.includes(candidate));
        if (separator) result[entry.slice(0, entry.indexOf(separator))] = entry.slice(entry.indexOf(separator) + 1);
        else result[entry] = options.allowNull ? null : '';
      }
      return result;
    });
}

const command = z.union([text, stringList], { error: 'must be a string or a list of strings' }).transform((value, context) => {
  if (Array.isArray(value)) return value;
  try {
    return shellSplit(value);
  } catch (error) {
    context.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

const longPort = fields({ mode: text.optional(), target: integer.optional(), published: integer.optional(), protocol: text.optional() });
export interface NormalizedPort extends PortConfig {
  ignoredAddress?: string;
}
const ports = z.array(z.union([z.number(), text, longPort], { error: 'must be a port ("8080:80") or a mapping with target and published' })).transform((entries, context): NormalizedPort[] => {
  const result: NormalizedPort[] = [];
  entries.forEach((entry, index) => {
    if (typeof entry === 'object') {
      result.push({
        Protocol: entry.protocol ?? 'tcp',
        TargetPort: entry.target ?? 0,
        ...(entry.published !== undefined ? { PublishedPort: entry.published } : {}),
        PublishMode: entry.mode ?? 'ingress',
      });
      return;
    }
    try {
      const parsed = parseShortPort(String(entry));
      result.push(...parsed.ports.map((port) => ({ ...port, ...(parsed.ignoredAddress ? { ignoredAddress: parsed.ignoredAddress } : {}) })));
    } catch (error) {
      context.addIssue({ code: 'custom', path: [index], message: (error as Error).message });
    }
  });
  return result;
});

const longVolume = fields({
  type: z.enum(['volume', 'bind', 'tmpfs', 'npipe', 'cluster'], { error: 'must be volume, bind, tmpfs, npipe or cluster' }),
  source: text.optional(),
  target: text.optional(),
  read_only: bool.optional(),
  consistency: text.optional(),
  bind: z.looseObject({ propagation: text.optional() }).optional(),
  volume: z.looseObject({ nocopy: bool.optional() }).optional(),
  tmpfs: z.looseObject({ size: integer.min(0, 'must be at least 0').optional() }).optional(),
});
const volumes = z.array(z.union([text, longVolume], { error: 'must be "source:target[:ro]" or a mapping with type, source and target' })).transform((entries, context): ServiceVolume[] => {
  const result: ServiceVolume[] = [];
  entries.forEach((entry, index) => {
    if (typeof entry === 'object') {
      result.push({ ...entry, target: entry.target ?? '' } as ServiceVolume);
      return;
    }
    try {
      result.push(parseShortVolume(entry));
    } catch (error) {
      context.addIssue({ code: 'custom', path: [index], message: (error as Error).message });
    }
  });
  return result;
});

const serviceNetwork = z.union([
  z.null(),
  fields({ aliases: stringList.optional(), driver_opts: z.record(z.string(), scalar).optional(), ipv4_address: text.optional(), ipv6_address: text.optional() }),
]);
const serviceNetworks = z
  .union([stringList, z.record(z.string().regex(/^[a-zA-Z0-9._-]+$/, 'letters, digits, ., _ and -'), serviceNetwork)], { error: 'must be a list of network names or a mapping of networks' })
  .transform((value): Record<string, { aliases?: string[]; driver_opts?: Record<string, string | number> } | null> =>
    Array.isArray(value) ? Object.fromEntries(value.map((name) => [name, null])) : value,
  );

const fileReference = z
  .union(
    [text, z.looseObject({ source: text, target: text.optional(), uid: text.optional(), gid: text.optional(), mode: z.number({ error: 'must be a number (an octal mode such as 0440)' }).optional() })],
    { error: 'must be a name or a mapping with source (and target, uid, gid, mode)' },
  )
  .transform((value) => (typeof value === 'string' ? { source: value } : value));

const updatePolicy = fields({
  parallelism: integer.optional(),
  delay: duration.optional(),
  failure_action: text.optional(),
  monitor: duration.optional(),
  max_failure_ratio: z.number({ error: 'must be a number' }).optional(),
  order: z.enum(['start-first', 'stop-first'], { error: 'must be start-first or stop-first' }).optional(),
});

const resourceCpus = z.string({ error: 'must be a string: quote it, as in cpus: "0.5"' });
const deploy = fields({
  mode: z.enum(['replicated', 'global', 'replicated-job', 'global-job'], { error: 'must be replicated, global, replicated-job or global-job' }).optional(),
  endpoint_mode: z.enum(['vip', 'dnsrr'], { error: 'must be vip or dnsrr' }).optional(),
  replicas: integer.min(0, 'cannot be negative').optional(),
  labels: listOrMap(['='], { allowNull: false, name: 'labels' }).optional(),
  update_config: updatePolicy.optional(),
  rollback_config: updatePolicy.optional(),
  resources: fields({
    limits: fields({ cpus: resourceCpus.optional(), memory: text.optional(), pids: integer.optional() }).optional(),
    reservations: fields({
      cpus: resourceCpus.optional(),
      memory: text.optional(),
      generic_resources: z.array(z.looseObject({ discrete_resource_spec: z.looseObject({ kind: text.optional(), value: z.number().optional() }).optional() })).optional(),
    }).optional(),
  }).optional(),
  restart_policy: fields({
    condition: z.enum(['none', 'on-failure', 'any'], { error: 'must be none, on-failure or any' }).optional(),
    delay: duration.optional(),
    max_attempts: integer.optional(),
    window: duration.optional(),
  }).optional(),
  placement: fields({ constraints: stringList.optional(), preferences: z.array(fields({ spread: text.optional() })).optional(), max_replicas_per_node: integer.optional() }).optional(),
});

const healthcheck = fields({
  disable: bool.optional(),
  interval: duration.optional(),
  retries: z.number({ error: 'must be a number' }).optional(),
  start_interval: duration.optional(),
  start_period: duration.optional(),
  test: z.union([text, stringList], { error: 'must be a string (run by a shell) or a list such as [CMD, curl, -f, http://localhost]' }).optional(),
  timeout: duration.optional(),
});

// Written into a Traefik rule between backticks: a host name and a plain path, nothing that could end the quote.
const route = fields({
  host: text.regex(/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/, 'a host name such as shop.example.org'),
  path: text.regex(/^\/[^`\s]*$/, 'a path starting with / (no spaces or backticks)').default('/'),
  port: integer.min(1).max(65_535),
  tlsResolver: text.optional(),
  entrypoints: stringList.optional(),
});
const connectionSecret = fields({
  connection: text.min(1, 'required'),
  file: text.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a file name under /run/secrets (letters, digits, . _ -)').optional(),
  env: text.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name').optional(),
}).refine((entry) => (entry.file === undefined) !== (entry.env === undefined), 'give either file (a Swarm secret, preferred) or env');

/** Jarvis's own additions, under `x-jarvis` so the file stays valid Compose. */
export const jarvisServiceExtension = fields({
  /** HTTP routes published through Traefik (written as Traefik's Swarm labels). */
  routes: z.array(route).default([]),
  /** Secrets of Jarvis connections: a Swarm secret file under /run/secrets, or an environment variable. */
  secrets: z.array(connectionSecret).default([]),
});

/** Fields Swarm ignores (Docker accepts them with a warning). */
export const IGNORED_FIELDS: Record<string, string> = {
  build: 'Swarm deploys images; build it and push it first (the image field is used)',
  cgroupns_mode: 'not supported by Swarm services',
  cgroup_parent: 'not supported by Swarm services',
  container_name: 'Swarm names tasks itself',
  depends_on: 'Swarm starts services in no particular order: make services retry their dependencies',
  devices: 'not supported by Swarm services',
  domainname: 'not supported by Swarm services',
  expose: 'services on the same network reach each other on any port',
  external_links: 'not supported by Swarm services',
  ipc: 'not supported by Swarm services',
  links: 'services on the same network reach each other by name',
  mac_address: 'not supported by Swarm services',
  network_mode: 'use networks (host through an external network named host)',
  pid: 'not supported by Swarm services',
  privileged: 'not supported by Swarm services',
  security_opt: 'not supported by Swarm services',
  shm_size: 'not supported by Swarm services; mount a tmpfs volume at /dev/shm',
  tmpfs: 'Swarm ignores it: use a volumes entry with type: tmpfs',
  userns_mode: 'not supported by Swarm services',
  credential_spec: 'Windows services only',
};

/** Fields Docker refuses outright, with its reason. */
export const FORBIDDEN_FIELDS: Record<string, string> = {
  extends: 'extends is not supported by docker stack deploy: merge the services with YAML anchors (<<: *base) instead',
  volume_driver: 'define a volume in the top-level volumes with its driver instead',
  volumes_from: 'share a volume by defining it in the top-level volumes and mounting it in each service',
  cpu_quota: 'set resource limits with deploy.resources',
  cpu_shares: 'set resource limits with deploy.resources',
  cpuset: 'set resource limits with deploy.resources',
  mem_limit: 'set resource limits with deploy.resources.limits.memory',
  memswap_limit: 'set resource limits with deploy.resources',
};

/** The types Compose gives the fields Swarm ignores: a wrong type is still refused, as Docker does. */
const ignored = {
  build: z.union([text, z.record(z.string(), z.unknown())], { error: 'must be a path or a mapping with context' }).optional(),
  cgroupns_mode: text.optional(),
  cgroup_parent: text.optional(),
  container_name: text.optional(),
  depends_on: stringList.optional(),
  devices: stringList.optional(),
  domainname: text.optional(),
  expose: z.array(scalar).optional(),
  external_links: stringList.optional(),
  ipc: text.optional(),
  links: stringList.optional(),
  mac_address: text.optional(),
  network_mode: text.optional(),
  pid: z.union([text, z.null()]).optional(),
  privileged: bool.optional(),
  security_opt: stringList.optional(),
  shm_size: scalar.optional(),
  tmpfs: stringOrList.optional(),
  userns_mode: text.optional(),
  credential_spec: z.record(z.string(), z.unknown()).optional(),
};

export const composeServiceSchema = fields(
  {
    ...ignored,
    image: text.optional(),
    command: command.optional(),
    entrypoint: command.optional(),
    environment: listOrMap(['='], { allowNull: true, name: 'KEY=value entries' }).optional(),
    env_file: stringOrList.optional(),
    ports: ports.optional(),
    volumes: volumes.optional(),
    networks: serviceNetworks.optional(),
    deploy: deploy.nullable().optional(),
    labels: listOrMap(['='], { allowNull: false, name: 'labels' }).optional(),
    healthcheck: healthcheck.optional(),
    secrets: z.array(fileReference).optional(),
    configs: z.array(fileReference).optional(),
    user: text.optional(),
    working_dir: text.optional(),
    hostname: text.optional(),
    extra_hosts: listOrMap(['=', ':'], { allowNull: false, name: 'host:address entries', sortMapping: true }).optional(),
    cap_add: stringList.optional(),
    cap_drop: stringList.optional(),
    sysctls: listOrMap(['='], { allowNull: false, name: 'sysctls' }).optional(),
    ulimits: z
      .record(z.string().regex(/^[a-z]+$/, 'a lower-case limit name such as nofile'), z.union([integer, fields({ soft: integer, hard: integer })], { error: 'must be a number or soft and hard' }))
      .optional(),
    logging: fields({ driver: text.optional(), options: z.record(z.string(), z.union([scalar, z.null()])).optional() }).optional(),
    stop_grace_period: duration.optional(),
    stop_signal: text.optional(),
    init: bool.optional(),
    read_only: bool.optional(),
    tty: bool.optional(),
    stdin_open: bool.optional(),
    dns: stringOrList.optional(),
    dns_search: stringOrList.optional(),
    isolation: text.optional(),
    oom_score_adj: integer.min(-1000).max(1000).optional(),
    restart: text.optional(),
    'x-jarvis': jarvisServiceExtension.optional(),
  },
  { extensions: true },
).superRefine((service, context) => {
  if (service.image !== undefined) {
    const problem = checkImageReference(service.image);
    if (problem) context.addIssue({ code: 'custom', path: ['image'], message: `invalid image reference "${service.image}": ${problem}` });
  }
});

const external = z
  .union([bool, fields({ name: text.optional() })], { error: 'must be true, false or a mapping with name' })
  .transform((value) => (typeof value === 'boolean' ? { external: value } : { external: true, ...(value.name !== undefined ? { name: value.name } : {}) }));

const driverOptions = z.record(z.string(), scalar).transform((value) => Object.fromEntries(Object.entries(value).map(([key, item]) => [key, scalarText(item)])));
const objectLabels = listOrMap(['='], { allowNull: false, name: 'labels' });

export const composeNetworkSchema = z.union([
  z.null(),
  fields(
    {
      driver: text.optional(),
      driver_opts: driverOptions.optional(),
      ipam: fields({ driver: text.optional(), config: z.array(fields({ subnet: text.optional() })).optional() }).optional(),
      external: external.optional(),
      internal: bool.optional(),
      attachable: bool.optional(),
      labels: objectLabels.optional(),
      name: text.optional(),
    },
    { extensions: true },
  ),
]);

export const composeVolumeSchema = z.union([
  z.null(),
  fields({ driver: text.optional(), driver_opts: driverOptions.optional(), external: external.optional(), labels: objectLabels.optional(), name: text.optional() }, { extensions: true }),
]);

const fileObject = (withDriver: boolean) =>
  fields(
    {
      file: text.optional(),
      external: external.optional(),
      labels: objectLabels.optional(),
      name: text.optional(),
      template_driver: text.optional(),
      ...(withDriver ? { driver: text.optional(), driver_opts: driverOptions.optional() } : {}),
      /** The data of a Jarvis connection's secret, read when the stack is deployed (never written in the file). */
      'x-jarvis': fields({ connection: text.min(1, 'required') }).optional(),
    },
    { extensions: true },
  );
export const composeSecretSchema = fileObject(true);
export const composeConfigSchema = fileObject(false);

const names = (what: string) => z.string().regex(/^[a-zA-Z0-9._-]+$/, `a ${what} name has letters, digits, ., _ and -`);

export const composeFileSchema = fields(
  {
    version: z.union([text, z.number()]).optional(),
    services: z.record(
      names('service'),
      z.preprocess((service) => service ?? {}, composeServiceSchema),
    ),
    networks: z.record(names('network'), composeNetworkSchema).optional(),
    volumes: z.record(names('volume'), composeVolumeSchema).optional(),
    secrets: z.record(names('secret'), composeSecretSchema).optional(),
    configs: z.record(names('config'), composeConfigSchema).optional(),
  },
  { extensions: true },
);

export type ComposeFile = z.output<typeof composeFileSchema>;
export type ComposeService = ComposeFile['services'][string];
