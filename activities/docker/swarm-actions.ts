// Swarm stack actions: deploy (create or update, wait until every replica runs
// healthy; Swarm rolls a failed update back), scale, remove.
import { ApplicationFailure } from '@temporalio/activity';
import { parse as parseYamlText } from 'yaml';
import { z } from 'zod';
import { deployStack, removeStack, StackDeployFailed, stackManifestSchema, waitForService } from '../../infra/swarm-stack.js';
import { parseDuration } from '../../manifest/duration.js';
import { formatErrors, zodIssuesToErrors } from '../../manifest/errors.js';
import { defineAction, durationArgument } from '../action.js';
import { dockerFor, endpointArgument } from './docker-actions.js';

const serviceState = z.object({ name: z.string(), image: z.string(), replicas: z.number(), running: z.number() });

function readManifest(value: unknown) {
  let raw = value;
  if (typeof value === 'string') {
    try {
      raw = parseYamlText(value) as unknown;
    } catch (error) {
      throw ApplicationFailure.nonRetryable(`the stack manifest is not YAML: ${(error as Error).message}`, 'InvalidStack');
    }
  }
  const parsed = stackManifestSchema.safeParse(raw);
  if (!parsed.success) throw ApplicationFailure.nonRetryable(`the stack manifest is invalid:\n${formatErrors(zodIssuesToErrors('stack', parsed.error.issues))}`, 'InvalidStack');
  return parsed.data;
}

/** A failed or timed-out convergence is final for this run: retrying would redeploy what just failed. */
function finalFailure(error: unknown): never {
  if (error instanceof StackDeployFailed) throw ApplicationFailure.nonRetryable(error.message, 'StackDeployFailed');
  throw error;
}

export const swarmStackDeploy = defineAction({
  id: 'swarm.stack.deploy',
  title: 'Deploy a Swarm stack',
  description:
    'Creates or updates the services of a stack manifest (YAML or object: services with image, command, replicas, env, secrets from connections, healthcheck, update/rollback policy, ports, network, routes as Traefik labels) and waits until every replica runs healthy. An update that fails is rolled back by Swarm and fails the step with its reason.',
  risk: 'high',
  input: z.object({ endpoint: endpointArgument, stack: z.union([z.string().min(1), z.record(z.string(), z.unknown())]), timeout: durationArgument.default('5m') }).strict(),
  output: z.object({ stack: z.string(), services: z.array(serviceState) }),
  defaults: { timeout: '15m', retry: { maxAttempts: 2, initialInterval: '5s', backoff: 2, maxInterval: '1m' } },
  create: (deps) => async (args, context) => {
    const manifest = readManifest(args.stack);
    const docker = await dockerFor(deps, context, args.endpoint);
    const resolveSecret = async (name: string) => {
      const connection = await deps.connections?.resolve(context.step.environment, name);
      if (!connection?.secret) throw ApplicationFailure.nonRetryable(`no connection "${name}" with a secret in ${context.step.environment}`, 'UnknownConnection');
      return connection.secret;
    };
    const services = await deployStack(docker, manifest, {
      resolveSecret,
      timeoutMs: parseDuration(args.timeout) ?? 300_000,
      signal: context.signal,
      log: (text) => {
        context.log('system', text);
        context.heartbeat();
      },
    }).catch(finalFailure);
    return { stack: manifest.name, services: services.map(({ name, image, replicas, running }) => ({ name, image, replicas, running })) };
  },
});

export const swarmServiceScale = defineAction({
  id: 'swarm.service.scale',
  title: 'Scale a Swarm service',
  description: 'Sets a service’s replica count and waits until that many run healthy.',
  risk: 'medium',
  input: z.object({ endpoint: endpointArgument, service: z.string().min(1), replicas: z.number().int().min(0).max(100), timeout: durationArgument.default('5m') }).strict(),
  output: serviceState,
  defaults: { timeout: '15m', retry: { maxAttempts: 2, initialInterval: '5s', backoff: 2, maxInterval: '1m' } },
  create: (deps) => async (args, context) => {
    const docker = await dockerFor(deps, context, args.endpoint);
    const handle = docker.getService(args.service);
    const info = await handle.inspect().catch((error: { statusCode?: number }) => {
      if (error.statusCode === 404) throw ApplicationFailure.nonRetryable(`no service "${args.service}" on this endpoint`, 'ServiceNotFound');
      throw error;
    });
    const updatedAt = Date.now();
    await handle.update({ ...info.Spec, Mode: { Replicated: { Replicas: args.replicas } }, version: info.Version.Index });
    context.log('system', `scaling ${args.service} to ${args.replicas}`);
    const state = await waitForService(docker, args.service, {
      timeoutMs: parseDuration(args.timeout) ?? 300_000,
      signal: context.signal,
      updatedAt,
      onProgress: (progress) => context.log('system', `${args.service}: ${progress.running}/${progress.replicas} running`),
    }).catch(finalFailure);
    return { name: state.name, image: state.image, replicas: state.replicas, running: state.running };
  },
});

export const swarmStackRemove = defineAction({
  id: 'swarm.stack.remove',
  title: 'Remove a Swarm stack',
  description: 'Removes every service labelled with the stack, then its networks.',
  risk: 'high',
  input: z.object({ endpoint: endpointArgument, stack: z.string().min(1) }).strict(),
  output: z.object({ removed: z.number() }),
  defaults: { timeout: '5m', retry: { maxAttempts: 3, initialInterval: '2s', backoff: 2, maxInterval: '30s' } },
  create: (deps) => async (args, context) => {
    const docker = await dockerFor(deps, context, args.endpoint);
    return { removed: await removeStack(docker, args.stack, (text) => context.log('system', text)) };
  },
});
