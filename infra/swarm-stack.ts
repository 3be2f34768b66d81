// Swarm stacks: a manifest (a Compose v3 subset) deployed as Swarm services
// named `<stack>_<service>` and labelled with the stack, waiting until every
// task runs (healthy, when there is a healthcheck). Failed updates are rolled
// back by Swarm itself (`update.failureAction: rollback`); the deploy then
// ends failed with Swarm's reason.
import type Docker from 'dockerode';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { parseDuration, DURATION_HINT } from '../manifest/duration.js';

const STACK_LABEL = 'com.docker.stack.namespace';
/** A duration, where zero (`0s`) is allowed: a policy may have no delay. */
const ZERO = /^0+(ms|s|m|h)?$/;
const duration = z.string().refine((value) => ZERO.test(value.trim()) || parseDuration(value) !== undefined, { message: `not a duration: ${DURATION_HINT}` });
const name = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'lower-case letters, digits, - and _, at most 40');

const updatePolicy = z
  .object({
    parallelism: z.number().int().min(0).default(1),
    delay: duration.default('0s'),
    failureAction: z.enum(['pause', 'continue', 'rollback']).default('rollback'),
    monitor: duration.default('5s'),
    order: z.enum(['stop-first', 'start-first']).default('stop-first'),
  })
  .strict();

const route = z
  .object({
    host: z.string().min(1),
    path: z.string().startsWith('/').default('/'),
    port: z.number().int().min(1).max(65_535),
    tlsResolver: z.string().optional(),
  })
  .strict();

export const stackServiceSchema = z
  .object({
    image: z.string().min(1),
    command: z.array(z.string()).optional(),
    replicas: z.number().int().min(0).max(100).default(1),
    env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
    /**
     * Secrets of connections (never written in the manifest): as a Swarm secret mounted at
     * /run/secrets/<file> (kept out of the service's spec), or as an environment variable.
     */
    secrets: z
      .array(
        z
          .object({ connection: z.string().min(1), file: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/).optional(), env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/).optional() })
          .strict()
          .refine((entry) => (entry.file === undefined) !== (entry.env === undefined), 'give either file (a Swarm secret, preferred) or env'),
      )
      .default([]),
    healthcheck: z
      .object({ test: z.array(z.string()).min(1), interval: duration.default('5s'), timeout: duration.default('3s'), retries: z.number().int().min(1).default(3), startPeriod: duration.default('0s') })
      .strict()
      .optional(),
    update: updatePolicy.default({ parallelism: 1, delay: '0s', failureAction: 'rollback', monitor: '5s', order: 'stop-first' }),
    rollback: updatePolicy.default({ parallelism: 1, delay: '0s', failureAction: 'pause', monitor: '5s', order: 'stop-first' }),
    ports: z.array(z.object({ published: z.number().int().min(1).max(65_535), target: z.number().int().min(1).max(65_535), protocol: z.enum(['tcp', 'udp']).default('tcp') }).strict()).default([]),
    /** `host` shares the node's network; otherwise the stack's overlay network. */
    network: z.enum(['host', 'overlay']).default('overlay'),
    routes: z.array(route).default([]),
    labels: z.record(z.string(), z.string()).default({}),
  })
  .strict();

export const stackManifestSchema = z.object({ name, services: z.record(name, stackServiceSchema).refine((services) => Object.keys(services).length > 0, 'a stack needs a service') }).strict();

export type StackManifest = z.output<typeof stackManifestSchema>;
export type StackService = StackManifest['services'][string];

const nanos = (text: string) => (ZERO.test(text.trim()) ? 0 : (parseDuration(text) ?? 0)) * 1_000_000;

function policy(update: z.output<typeof updatePolicy>) {
  return { Parallelism: update.parallelism, Delay: nanos(update.delay), FailureAction: update.failureAction, Monitor: nanos(update.monitor), Order: update.order };
}

/** Traefik labels for a service's routes (Traefik reads them from Swarm services). */
export function traefikLabels(stack: string, service: string, routes: z.output<typeof route>[]): Record<string, string> {
  if (routes.length === 0) return {};
  const labels: Record<string, string> = { 'traefik.enable': 'true' };
  routes.forEach((entry, index) => {
    const router = `${stack}-${service}-${index}`;
    labels[`traefik.http.routers.${router}.rule`] = `Host(\`${entry.host}\`) && PathPrefix(\`${entry.path}\`)`;
    labels[`traefik.http.routers.${router}.service`] = router;
    labels[`traefik.http.services.${router}.loadbalancer.server.port`] = String(entry.port);
    if (entry.tlsResolver) labels[`traefik.http.routers.${router}.tls.certresolver`] = entry.tlsResolver;
  });
  return labels;
}

/** A Swarm secret attached to a service, mounted at /run/secrets/<file>. */
export interface SecretMount {
  id: string;
  name: string;
  file: string;
}

export function serviceSpec(stack: string, serviceName: string, service: StackService, secretEnv: Record<string, string>, secretFiles: SecretMount[] = []): Docker.ServiceSpec {
  const env = { ...service.env, ...secretEnv };
  return {
    Name: `${stack}_${serviceName}`,
    Labels: { [STACK_LABEL]: stack, ...service.labels, ...traefikLabels(stack, serviceName, service.routes) },
    TaskTemplate: {
      ContainerSpec: {
        Image: service.image,
        ...(service.command ? { Command: service.command } : {}),
        Env: Object.entries(env).map(([key, value]) => `${key}=${value}`),
        Labels: { [STACK_LABEL]: stack },
        ...(secretFiles.length > 0
          ? { Secrets: secretFiles.map((secret) => ({ SecretID: secret.id, SecretName: secret.name, File: { Name: secret.file, UID: '0', GID: '0', Mode: 0o444 } })) }
          : {}),
        ...(service.healthcheck
          ? {
              HealthCheck: {
                Test: service.healthcheck.test[0] === 'CMD' || service.healthcheck.test[0] === 'CMD-SHELL' ? service.healthcheck.test : ['CMD', ...service.healthcheck.test],
                Interval: nanos(service.healthcheck.interval),
                Timeout: nanos(service.healthcheck.timeout),
                Retries: service.healthcheck.retries,
                StartPeriod: nanos(service.healthcheck.startPeriod),
              },
            }
          : {}),
      },
      ...(service.network === 'host' ? { Networks: [{ Target: 'host' }] } : { Networks: [{ Target: `${stack}_default` }] }),
    },
    Mode: { Replicated: { Replicas: service.replicas } },
    UpdateConfig: policy(service.update),
    RollbackConfig: policy(service.rollback),
    ...(service.ports.length > 0 ? { EndpointSpec: { Ports: service.ports.map((port) => ({ PublishedPort: port.published, TargetPort: port.target, Protocol: port.protocol })) } } : {}),
  };
}

export interface ServiceState {
  name: string;
  image: string;
  replicas: number;
  running: number;
  updateState?: string;
  updateMessage?: string;
  updateStartedAt?: number;
}

export async function stackServices(docker: Docker, stack: string): Promise<Docker.Service[]> {
  const services = await docker.listServices({ filters: { label: [`${STACK_LABEL}=${stack}`] } });
  return services.map((service) => docker.getService(service.ID));
}

export async function serviceState(docker: Docker, serviceName: string): Promise<ServiceState> {
  const info = await docker.getService(serviceName).inspect();
  const tasks = await docker.listTasks({ filters: { service: [serviceName], 'desired-state': ['running'] } });
  const spec = info.Spec as Docker.ServiceSpec;
  return {
    name: serviceName,
    image: String(spec.TaskTemplate && 'ContainerSpec' in spec.TaskTemplate ? (spec.TaskTemplate.ContainerSpec?.Image ?? '') : ''),
    replicas: spec.Mode?.Replicated?.Replicas ?? 0,
    running: tasks.filter((task: { Status?: { State?: string } }) => task.Status?.State === 'running').length,
    ...(info.UpdateStatus?.State ? { updateState: info.UpdateStatus.State } : {}),
    ...(info.UpdateStatus?.Message ? { updateMessage: info.UpdateStatus.Message } : {}),
    ...(info.UpdateStatus?.StartedAt ? { updateStartedAt: Date.parse(info.UpdateStatus.StartedAt) } : {}),
  };
}

const UPDATE_START_GRACE_MS = 3_000;

export class StackDeployFailed extends Error {
  override name = 'StackDeployFailed';
}

/**
 * Waits until the service runs all its replicas (Swarm counts a task running
 * only once its healthcheck passes) and no update is in progress; fails when
 * Swarm rolled an update back or paused it.
 */
export async function waitForService(
  docker: Docker,
  serviceName: string,
  options: { timeoutMs: number; signal?: AbortSignal; onProgress?: (state: ServiceState) => void; /** When the service was updated: older update states are ignored. */ updatedAt?: number },
): Promise<ServiceState> {
  const began = Date.now();
  const deadline = began + options.timeoutMs;
  let last = '';
  for (;;) {
    options.signal?.throwIfAborted();
    const observed = await serviceState(docker, serviceName);
    // An update state from before this deploy says nothing about it (the engine's clock may differ a little).
    const current = options.updatedAt === undefined || (observed.updateStartedAt ?? 0) >= options.updatedAt - 2_000;
    const { updateState: _old, updateMessage: _oldMessage, ...withoutUpdate } = observed;
    const state: ServiceState = current ? observed : withoutUpdate;
    // Swarm starts an update a moment after it accepts it: give it that moment before calling the service converged.
    const updateMayStillStart = options.updatedAt !== undefined && !current && Date.now() - began < UPDATE_START_GRACE_MS;
    const summary = `${state.running}/${state.replicas} running${state.updateState ? `, update ${state.updateState}` : ''}`;
    if (summary !== last) options.onProgress?.(state);
    last = summary;
    if (state.updateState === 'rollback_completed' || state.updateState === 'rollback_paused' || state.updateState === 'paused') {
      throw new StackDeployFailed(`the update of ${serviceName} failed and Swarm ${state.updateState === 'paused' ? 'paused it' : 'rolled it back'}: ${state.updateMessage ?? 'no reason given'}`);
    }
    const settled = !state.updateState || state.updateState === 'completed';
    if (settled && !updateMayStillStart && state.running === state.replicas) return state;
    if (Date.now() > deadline) throw new StackDeployFailed(`${serviceName} did not converge in time: ${summary}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Creates or updates every service of the stack (and its overlay network), then waits for all of them. */
export async function deployStack(
  docker: Docker,
  manifest: StackManifest,
  options: { resolveSecret: (connection: string) => Promise<string>; timeoutMs: number; signal?: AbortSignal; log: (text: string) => void },
): Promise<ServiceState[]> {
  const needsOverlay = Object.values(manifest.services).some((service) => service.network === 'overlay');
  if (needsOverlay) {
    const networkName = `${manifest.name}_default`;
    const existing = await docker.listNetworks({ filters: { name: [networkName] } });
    if (!existing.some((network) => network.Name === networkName)) {
      await docker.createNetwork({ Name: networkName, Driver: 'overlay', Attachable: true, Labels: { [STACK_LABEL]: manifest.name } });
      options.log(`created network ${networkName}`);
    }
  }
  const deployed: Array<{ name: string; updatedAt?: number }> = [];
  const mounted = new Set<string>();
  for (const [serviceName, service] of Object.entries(manifest.services)) {
    const secretEnv: Record<string, string> = {};
    const secretFiles: SecretMount[] = [];
    for (const reference of service.secrets) {
      const value = await options.resolveSecret(reference.connection);
      if (reference.env) secretEnv[reference.env] = value;
      if (reference.file) {
        const secret = await ensureSwarmSecret(docker, manifest.name, reference.connection, value, options.log);
        secretFiles.push({ ...secret, file: reference.file });
        mounted.add(secret.id);
      }
    }
    const spec = serviceSpec(manifest.name, serviceName, service, secretEnv, secretFiles);
    const fullName = spec.Name!;
    const existing = await docker
      .getService(fullName)
      .inspect()
      .catch((error: { statusCode?: number }) => {
        if (error.statusCode === 404) return undefined;
        throw error;
      });
    if (existing) {
      const updatedAt = Date.now();
      await docker.getService(fullName).update({ ...spec, version: existing.Version.Index });
      deployed.push({ name: fullName, updatedAt });
      options.log(`updating ${fullName} (${service.replicas} replica(s), ${service.image})`);
    } else {
      await docker.createService(spec);
      deployed.push({ name: fullName });
      options.log(`creating ${fullName} (${service.replicas} replica(s), ${service.image})`);
    }
  }
  const states: ServiceState[] = [];
  for (const { name: fullName, updatedAt } of deployed) {
    states.push(
      await waitForService(docker, fullName, {
        timeoutMs: options.timeoutMs,
        ...(updatedAt !== undefined ? { updatedAt } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        onProgress: (state) => options.log(`${fullName}: ${state.running}/${state.replicas} running${state.updateState ? `, update ${state.updateState}` : ''}`),
      }),
    );
  }
  // Secrets of earlier versions of the stack that no service uses any more.
  await removeStackSecrets(docker, manifest.name, options.log, mounted);
  return states;
}

/**
 * The Swarm secret holding a connection's secret for a stack. Swarm secrets cannot change, so the
 * name carries a digest of the value: the same value reuses its secret (no needless rolling
 * update), a changed value makes a new one and the services roll over to it.
 */
async function ensureSwarmSecret(docker: Docker, stack: string, connection: string, value: string, log: (text: string) => void): Promise<{ id: string; name: string }> {
  const digest = createHash('sha256').update(`${stack}\0${connection}\0${value}`).digest('hex').slice(0, 12);
  const secretName = `${stack}_${connection}_${digest}`.slice(0, 64);
  const found = (await docker.listSecrets({ filters: { name: [secretName] } })).find((secret) => secret.Spec?.Name === secretName);
  if (found) return { id: found.ID, name: secretName };
  const created = (await docker.createSecret({ Name: secretName, Labels: { [STACK_LABEL]: stack, 'jarvis.connection': connection }, Data: Buffer.from(value).toString('base64') })) as { id: string };
  log(`created Swarm secret ${secretName} from connection ${connection}`);
  return { id: created.id, name: secretName };
}

/** Removes the stack's secrets except `keep`; one still used by a task is left for the next deploy. */
async function removeStackSecrets(docker: Docker, stack: string, log: (text: string) => void, keep = new Set<string>()): Promise<void> {
  const secrets = await docker.listSecrets({ filters: { label: [`${STACK_LABEL}=${stack}`] } });
  for (const secret of secrets.filter((candidate) => !keep.has(candidate.ID))) {
    await docker
      .getSecret(secret.ID)
      .remove()
      .then(
        () => log(`removed Swarm secret ${secret.Spec?.Name ?? secret.ID}`),
        () => undefined,
      );
  }
}

export async function removeStack(docker: Docker, stack: string, log: (text: string) => void): Promise<number> {
  const services = await stackServices(docker, stack);
  for (const service of services) {
    await service.remove();
    log(`removed service ${service.id}`);
  }
  const networks = await docker.listNetworks({ filters: { label: [`${STACK_LABEL}=${stack}`] } });
  for (const network of networks) await docker.getNetwork(network.Id).remove().catch(() => log(`network ${network.Name} is still in use; left in place`));
  await removeStackSecrets(docker, stack, log);
  return services.length;
}

/** The stacks of an endpoint (services labelled with a stack), each with its services' state. */
export async function listStacks(docker: Docker): Promise<Array<{ name: string; services: ServiceState[] }>> {
  const services = await docker.listServices({ filters: { label: [STACK_LABEL] } });
  const stacks = new Map<string, ServiceState[]>();
  for (const service of services) {
    const stack = service.Spec?.Labels?.[STACK_LABEL];
    if (!stack) continue;
    stacks.set(stack, [...(stacks.get(stack) ?? []), await serviceState(docker, service.Spec?.Name ?? service.ID)]);
  }
  return [...stacks.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, states]) => ({ name, services: states.sort((a, b) => a.name.localeCompare(b.name)) }));
}
