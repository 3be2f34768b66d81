// Swarm stack actions: deploy (create or update, wait until every replica runs
// healthy; Swarm rolls a failed update back), scale, remove.
import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { describePlan, planStack, type StackPlan } from '../../infra/compose/stack-plan.js';
import { composeSource, stackInputSchema, type StackInput } from '../../infra/compose/stack-input.js';
import { deployStack, removeStack, StackDeployFailed, waitForService } from '../../infra/swarm-stack.js';
import { parseDuration } from '../../manifest/duration.js';
import { formatErrors } from '../../manifest/errors.js';
import { defineAction, durationArgument, type ActionContext } from '../action.js';
import { dockerFor, endpointArgument } from './docker-actions.js';

const serviceState = z.object({ name: z.string(), image: z.string(), replicas: z.number(), running: z.number() });

/** Reads the Compose file as Docker would; an invalid one fails the step for good, with every mistake and where. */
function planOrFail(args: StackInput, context: ActionContext): StackPlan {
  const result = planStack(composeSource(args));
  for (const warning of result.ok ? result.plan.warnings : result.warnings) context.log('system', `warning: ${warning.path}: ${warning.message}`);
  if (!result.ok) throw ApplicationFailure.nonRetryable(`the Compose file is invalid:\n${formatErrors(result.errors)}`, 'InvalidStack');
  return result.plan;
}

/** A failed or timed-out convergence is final for this run: retrying would redeploy what just failed. */
function finalFailure(error: unknown): never {
  if (error instanceof StackDeployFailed) throw ApplicationFailure.nonRetryable(error.message, 'StackDeployFailed');
  throw error;
}

export const swarmStackValidate = defineAction({
  id: 'swarm.stack.validate',
  title: 'Validate a Swarm stack',
  description:
    'Reads a Compose file as docker stack deploy does (variables, env file, files it names) and lists the services, networks, secrets and configs a deploy would create; fails with every mistake and its place. Touches nothing.',
  risk: 'low',
  input: stackInputSchema,
  output: z.object({ stack: z.string(), services: z.array(z.string()), networks: z.array(z.string()), warnings: z.array(z.string()) }),
  defaults: { timeout: '1m', retry: { maxAttempts: 1, initialInterval: '1s', backoff: 2, maxInterval: '1s' } },
  create: () => async (args, context) => {
    const plan = describePlan(planOrFail(args, context));
    for (const service of plan.services)
      context.log(
        'system',
        `service ${service.name}: ${JSON.stringify(service.spec.Mode)} ${String((service.spec.TaskTemplate as { ContainerSpec?: { Image?: string } } | undefined)?.ContainerSpec?.Image)}`,
      );
    return {
      stack: plan.stack,
      services: plan.services.map((service) => service.name),
      networks: plan.networks.map((network) => network.name),
      warnings: plan.warnings.map((warning) => `${warning.path}: ${warning.message}`),
    };
  },
});

export const swarmStackDeploy = defineAction({
  id: 'swarm.stack.deploy',
  title: 'Deploy a Swarm stack',
  description:
    'Deploys a Compose file as docker stack deploy does (networks, secrets, configs, services created or updated; x-jarvis routes as Traefik labels and connection secrets as Swarm secrets) and waits until every replica runs healthy. An update that fails is rolled back or paused by Swarm (per update_config) and fails the step with its reason.',
  risk: 'high',
  input: stackInputSchema.extend({ endpoint: endpointArgument, timeout: durationArgument.default('5m') }),
  output: z.object({ stack: z.string(), services: z.array(serviceState) }),
  defaults: { timeout: '15m', retry: { maxAttempts: 2, initialInterval: '5s', backoff: 2, maxInterval: '1m' } },
  create: (deps) => async (args, context) => {
    const { endpoint, timeout, ...stackArgs } = args;
    const plan = planOrFail(stackArgs, context);
    const docker = await dockerFor(deps, context, endpoint);
    const resolveSecret = async (name: string) => {
      const connection = await deps.connections?.resolve(context.step.environment, name);
      if (!connection?.secret) throw ApplicationFailure.nonRetryable(`no connection "${name}" with a secret in ${context.step.environment}`, 'UnknownConnection');
      return connection.secret;
    };
    const services = await deployStack(docker, plan, {
      resolveSecret,
      timeoutMs: parseDuration(timeout) ?? 300_000,
      signal: context.signal,
      log: (text) => {
        context.log('system', text);
        context.heartbeat();
      },
    }).catch(finalFailure);
    return { stack: plan.stack, services: services.map(({ name, image, replicas, running }) => ({ name, image, replicas, running })) };
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
