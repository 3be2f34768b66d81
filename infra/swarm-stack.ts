// Swarm stacks: a Compose file (read by infra/compose/stack-plan.ts as
// `docker stack deploy` reads it) applied to a Swarm: networks, secrets and
// configs created, services created or updated, then waited on until every
// task runs (healthy, when there is a healthcheck). A failed update is rolled
// back or paused by Swarm per the file's update_config; the deploy then ends
// failed with Swarm's reason.
import type Docker from 'dockerode';
import { createHash } from 'node:crypto';
import { digestName, STACK_LABEL, type ConnectionSecret, type PlannedObject, type StackPlan } from './compose/stack-plan.js';

export { STACK_LABEL };

export class StackDeployFailed extends Error {
  override name = 'StackDeployFailed';
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
    // A global service runs one task per eligible node: as many as Swarm wants running.
    replicas: spec.Mode?.Global ? tasks.length : (spec.Mode?.Replicated?.Replicas ?? 0),
    running: tasks.filter((task: { Status?: { State?: string } }) => task.Status?.State === 'running').length,
    ...(info.UpdateStatus?.State ? { updateState: info.UpdateStatus.State } : {}),
    ...(info.UpdateStatus?.Message ? { updateMessage: info.UpdateStatus.Message } : {}),
    ...(info.UpdateStatus?.StartedAt ? { updateStartedAt: Date.parse(info.UpdateStatus.StartedAt) } : {}),
  };
}

const UPDATE_START_GRACE_MS = 3_000;

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

type Log = (text: string) => void;

/** What a stack's apply did: the services it created or updated (with when, to tell old update states apart). */
export interface AppliedService {
  name: string;
  updatedAt?: number;
  /** Jobs run to completion: there is no "all running" to wait for. */
  job: boolean;
}

export interface ApplyOptions {
  /** The secret of a Jarvis connection (for `x-jarvis.secrets`). */
  resolveSecret: (connection: string) => Promise<string>;
  log: Log;
}

const notFound = (error: { statusCode?: number }) => {
  if (error.statusCode === 404) return undefined;
  throw error;
};

/** The stack's networks: external ones must exist and be swarm-scoped, the others are created when missing. */
async function ensureNetworks(docker: Docker, plan: StackPlan, log: Log): Promise<void> {
  const existing = await docker.listNetworks();
  for (const network of plan.networks) {
    const found = existing.find((candidate) => candidate.Name === network.name || candidate.Id === network.name);
    if (network.external) {
      if (!found || (found.Scope !== 'swarm' && !['host', 'bridge', 'none'].includes(found.Name))) {
        throw new StackDeployFailed(
          `network "${network.name}" is declared as external, but could not be found: create a swarm-scoped network before the stack is deployed (docker network create -d overlay ${network.name})`,
        );
      }
      continue;
    }
    if (found || !network.create) continue;
    await docker.createNetwork({ ...network.create, CheckDuplicate: true } as Docker.NetworkCreateOptions);
    log(`created network ${network.name}`);
  }
}

/** Secrets and configs from files (created when missing; their names carry a digest) or external (must exist). */
async function ensureObjects(docker: Docker, kind: 'secret' | 'config', objects: PlannedObject[], log: Log): Promise<Map<string, string>> {
  const list = kind === 'secret' ? await docker.listSecrets() : await docker.listConfigs();
  const ids = new Map<string, string>(list.map((object: { ID: string; Spec?: { Name?: string } }) => [object.Spec?.Name ?? '', object.ID]));
  for (const object of objects) {
    if (ids.has(object.name)) continue;
    if (object.external) throw new StackDeployFailed(`${kind} "${object.name}" is declared as external, but could not be found: create it first (docker ${kind} create ${object.name} FILE)`);
    const spec = { Name: object.name, Labels: object.labels, Data: object.data ?? '', ...(object.templateDriver ? { Templating: { Name: object.templateDriver } } : {}) };
    const created = (kind === 'secret' ? await docker.createSecret(spec) : await docker.createConfig(spec)) as { id?: string; ID?: string };
    ids.set(object.name, created.id ?? created.ID ?? '');
    log(`created ${kind} ${object.name}`);
  }
  return ids;
}

/**
 * The Swarm secret holding a connection's secret for a stack. Swarm secrets cannot change, so the
 * name carries a digest of the value: the same value reuses its secret (no needless rolling
 * update), a changed value makes a new one and the services roll over to it.
 */
async function ensureConnectionSecret(docker: Docker, stack: string, connection: string, value: string, log: Log): Promise<{ id: string; name: string }> {
  const digest = createHash('sha256').update(`${stack}\0${connection}\0${value}`).digest('hex').slice(0, 12);
  const secretName = `${stack}_${connection}_${digest}`.slice(0, 64);
  const found = (await docker.listSecrets({ filters: { name: [secretName] } })).find((secret) => secret.Spec?.Name === secretName);
  if (found) return { id: found.ID, name: secretName };
  const created = (await docker.createSecret({ Name: secretName, Labels: { [STACK_LABEL]: stack, 'jarvis.connection': connection }, Data: Buffer.from(value).toString('base64') })) as { id: string };
  log(`created Swarm secret ${secretName} from connection ${connection}`);
  return { id: created.id, name: secretName };
}

interface ContainerFields {
  Image?: string;
  Env?: string[];
  Secrets?: Array<Record<string, unknown>>;
  Configs?: Array<Record<string, unknown>>;
  [field: string]: unknown;
}
interface ContainerSpec {
  ContainerSpec?: ContainerFields;
  ForceUpdate?: number;
  [field: string]: unknown;
}

/** Adds the connections' secrets to a service's spec: files as Swarm secrets, variables into Env. */
async function withConnectionSecrets(docker: Docker, stack: string, spec: Docker.ServiceSpec, secrets: ConnectionSecret[], options: ApplyOptions): Promise<Docker.ServiceSpec> {
  if (secrets.length === 0) return spec;
  const template = spec.TaskTemplate as unknown as ContainerSpec;
  const container = { ...template.ContainerSpec };
  const env = [...(container.Env ?? [])];
  const files = [...(container.Secrets ?? [])];
  for (const reference of secrets) {
    const value = await options.resolveSecret(reference.connection);
    if (reference.env) env.push(`${reference.env}=${value}`);
    if (reference.file) {
      const secret = await ensureConnectionSecret(docker, stack, reference.connection, value, options.log);
      files.push({ SecretID: secret.id, SecretName: secret.name, File: { Name: reference.file, UID: '0', GID: '0', Mode: 0o444 } });
    }
  }
  return withContainer(spec, { ...container, Env: env.sort(), Secrets: files });
}

/** The spec with another container spec (the rest of the task template kept). */
function withContainer(spec: Docker.ServiceSpec, container: ContainerFields): Docker.ServiceSpec {
  return { ...spec, TaskTemplate: { ...(spec.TaskTemplate as unknown as ContainerSpec), ContainerSpec: container } as unknown as Docker.ServiceSpec['TaskTemplate'] };
}

/** The spec with each of its secret and config references changed by `update`. */
function withReferences(spec: Docker.ServiceSpec, update: (reference: Record<string, unknown>, kind: 'Secret' | 'Config') => Record<string, unknown>): Docker.ServiceSpec {
  const container = (spec.TaskTemplate as unknown as ContainerSpec).ContainerSpec;
  if (!container) return spec;
  const secrets = container.Secrets?.map((reference) => update(reference, 'Secret'));
  const configs = container.Configs?.map((reference) => update(reference, 'Config'));
  return withContainer(spec, { ...container, ...(secrets ? { Secrets: secrets } : {}), ...(configs ? { Configs: configs } : {}) });
}

/**
 * Reads the connections top-level secrets and configs take their data from (`x-jarvis:
 * { connection }`), names each after a digest of its value (a changed value rolls the services
 * over to a new one) and points the services' references at those names.
 */
async function withConnectionData(plan: StackPlan, resolveSecret: (connection: string) => Promise<string>): Promise<StackPlan> {
  const renamed = new Map<string, string>();
  const resolve = async (kind: 'Secret' | 'Config', objects: PlannedObject[]) =>
    Promise.all(
      objects.map(async (object) => {
        if (object.connection === undefined) return object;
        const data = Buffer.from(await resolveSecret(object.connection));
        const name = object.fixedName ? object.name : digestName(object.name, data);
        renamed.set(`${kind}:${object.name}`, name);
        return { ...object, name, data: data.toString('base64') };
      }),
    );
  const secrets = await resolve('Secret', plan.secrets);
  const configs = await resolve('Config', plan.configs);
  if (renamed.size === 0) return plan;
  const services = plan.services.map((service) => ({
    ...service,
    spec: withReferences(service.spec, (reference, kind) => ({ ...reference, [`${kind}Name`]: renamed.get(`${kind}:${String(reference[`${kind}Name`])}`) ?? reference[`${kind}Name`] })),
  }));
  return { ...plan, secrets, configs, services };
}

/** Fills the IDs Swarm needs next to the names of a service's secrets and configs. */
function withObjectIds(spec: Docker.ServiceSpec, secretIds: Map<string, string>, configIds: Map<string, string>): Docker.ServiceSpec {
  return withReferences(spec, (reference, kind) => ({ ...reference, [`${kind}ID`]: (kind === 'Secret' ? secretIds : configIds).get(String(reference[`${kind}Name`])) ?? reference[`${kind}ID`] }));
}

/**
 * Creates what the stack needs (networks, secrets, configs) and creates or updates every
 * service, as `docker stack deploy` does; does not wait.
 */
export async function applyStackPlan(docker: Docker, planned: StackPlan, options: ApplyOptions): Promise<AppliedService[]> {
  const plan = await withConnectionData(planned, options.resolveSecret);
  await ensureNetworks(docker, plan, options.log);
  const secretIds = await ensureObjects(docker, 'secret', plan.secrets, options.log);
  const configIds = await ensureObjects(docker, 'config', plan.configs, options.log);
  const applied: AppliedService[] = [];
  for (const service of plan.services) {
    const spec = withObjectIds(await withConnectionSecrets(docker, plan.stack, service.spec, service.connectionSecrets, options), secretIds, configIds);
    const name = spec.Name ?? service.key;
    const job = Boolean(spec.Mode?.ReplicatedJob ?? spec.Mode?.GlobalJob);
    const describe = `${spec.Mode?.Global ? 'global' : `${spec.Mode?.Replicated?.Replicas ?? 1} replica(s)`}, ${(spec.TaskTemplate as unknown as ContainerSpec).ContainerSpec?.Image ?? ''}`;
    const existing = await docker.getService(name).inspect().catch(notFound);
    if (existing) {
      const updatedAt = Date.now();
      // Keep a forced update counter as Docker does, so a redeploy does not restart tasks needlessly.
      const template = { ...spec.TaskTemplate, ForceUpdate: (existing.Spec?.TaskTemplate as { ForceUpdate?: number } | undefined)?.ForceUpdate ?? 0 };
      await docker.getService(name).update({ ...spec, TaskTemplate: template, version: existing.Version.Index });
      applied.push({ name, updatedAt, job });
      options.log(`updating ${name} (${describe})`);
    } else {
      await docker.createService(spec);
      applied.push({ name, job });
      options.log(`creating ${name} (${describe})`);
    }
  }
  return applied;
}

/** Applies the plan, then waits for every service; removes the stack's secrets and configs no service uses any more. */
export async function deployStack(docker: Docker, plan: StackPlan, options: ApplyOptions & { timeoutMs: number; signal?: AbortSignal }): Promise<ServiceState[]> {
  const applied = await applyStackPlan(docker, plan, options);
  const states: ServiceState[] = [];
  for (const { name, updatedAt, job } of applied) {
    if (job) {
      options.log(`${name} is a job: started, not waited for`);
      continue;
    }
    states.push(
      await waitForService(docker, name, {
        timeoutMs: options.timeoutMs,
        ...(updatedAt !== undefined ? { updatedAt } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        onProgress: (state) => options.log(`${name}: ${state.running}/${state.replicas} running${state.updateState ? `, update ${state.updateState}` : ''}`),
      }),
    );
  }
  await removeUnusedStackObjects(docker, plan.stack, options.log);
  return states;
}

/** Removes the stack's secrets and configs that no service of the stack refers to (older digests of changed files). */
async function removeUnusedStackObjects(docker: Docker, stack: string, log: Log, all = false): Promise<void> {
  const used = new Set<string>();
  if (!all) {
    for (const service of await docker.listServices({ filters: { label: [`${STACK_LABEL}=${stack}`] } })) {
      const container = (service.Spec?.TaskTemplate as unknown as ContainerSpec | undefined)?.ContainerSpec;
      for (const reference of [...(container?.Secrets ?? []), ...(container?.Configs ?? [])]) used.add(String(reference.SecretID ?? reference.ConfigID));
    }
  }
  const filters = { filters: { label: [`${STACK_LABEL}=${stack}`] } };
  const objects = [
    ...(await docker.listSecrets(filters)).map((secret) => ({ id: secret.ID, name: secret.Spec?.Name, remove: () => docker.getSecret(secret.ID).remove() })),
    ...(await docker.listConfigs(filters)).map((config: { ID: string; Spec?: { Name?: string } }) => ({ id: config.ID, name: config.Spec?.Name, remove: () => docker.getConfig(config.ID).remove() })),
  ];
  for (const object of objects.filter((candidate) => !used.has(candidate.id))) {
    // One still used by a task that is shutting down is left for the next deploy.
    await object.remove().then(
      () => log(`removed ${object.name ?? object.id}`),
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
  for (const network of networks)
    await docker
      .getNetwork(network.Id)
      .remove()
      .catch(() => log(`network ${network.Name} is still in use; left in place`));
  await removeUnusedStackObjects(docker, stack, log, true);
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
