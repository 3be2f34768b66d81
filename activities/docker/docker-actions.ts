// Container actions on a Docker endpoint named by a connection in the run's
// environment. Each is one activity of a short run, so it is retried,
// recorded, audited and, per runbook, approvable.
import { ApplicationFailure } from '@temporalio/activity';
import type Docker from 'dockerode';
import { z } from 'zod';
import { demultiplexLogs, EndpointError, openDockerEndpoint } from '../../infra/docker-endpoint.js';
import { defineAction, type ActionContext, type ActionDependencies } from '../action.js';
import { openConnection } from '../connections.js';

export const endpointArgument = z.string().min(1).describe('The name of a `docker` connection in the run’s environment');
const containerArgument = z.string().min(1).max(200).describe('Container name or id');

/** The endpoint's Docker client; a missing or wrong connection is not worth a retry. */
export function dockerFor(deps: ActionDependencies, context: ActionContext, endpoint: string): Promise<Docker> {
  return openConnection(deps, context, endpoint, openDockerEndpoint, EndpointError);
}

/** Docker answers 404 for an unknown container: that will not change on retry. */
function notFoundIsFinal(error: unknown, container: string, where = 'on this endpoint'): never {
  if ((error as { statusCode?: number }).statusCode === 404) throw ApplicationFailure.nonRetryable(`no container "${container}" ${where}`, 'ContainerNotFound');
  throw error;
}

export const containerState = z.object({ id: z.string(), name: z.string(), state: z.string(), health: z.string().optional(), restartCount: z.number() });

async function describeContainer(docker: Docker, container: string) {
  const info = await docker.getContainer(container).inspect();
  return {
    id: info.Id.slice(0, 12),
    name: info.Name.replace(/^\//, ''),
    state: info.State.Status,
    ...(info.State.Health?.Status ? { health: info.State.Health.Status } : {}),
    restartCount: info.RestartCount,
  };
}

function lifecycleAction(verb: 'restart' | 'stop' | 'start', title: string, description: string) {
  return defineAction({
    id: `docker.container.${verb}`,
    title,
    description,
    risk: verb === 'start' ? 'low' : 'medium',
    input: z.object({ endpoint: endpointArgument, container: containerArgument, timeoutSeconds: z.number().int().min(0).max(600).default(10) }).strict(),
    output: containerState,
    defaults: { timeout: '2m', retry: { maxAttempts: 3, initialInterval: '2s', backoff: 2, maxInterval: '30s' } },
    create: (deps) => async (args, context) => {
      const docker = await dockerFor(deps, context, args.endpoint);
      context.log('system', `${verb} ${args.container} on ${args.endpoint}`);
      const state = await setContainerState(docker, args.container, verb, args.timeoutSeconds);
      context.log('system', `${state.name} is ${state.state}${state.health ? ` (${state.health})` : ''}`);
      return state;
    },
  });
}

/**
 * Restarts, stops or starts a container and answers its state afterwards: the
 * one lifecycle of the endpoint actions and of the agent's node-local ones.
 * An unknown container is final; 304 (already stopped / already running) means
 * the wanted state holds, which is what matters.
 */
export async function setContainerState(docker: Docker, container: string, verb: 'restart' | 'stop' | 'start', timeoutSeconds: number, where?: string) {
  const handle = docker.getContainer(container);
  const alreadySo = (error: { statusCode?: number }) => {
    if (error.statusCode !== 304) throw error;
  };
  try {
    if (verb === 'restart') await handle.restart({ t: timeoutSeconds });
    if (verb === 'stop') await handle.stop({ t: timeoutSeconds }).catch(alreadySo);
    if (verb === 'start') await handle.start().catch(alreadySo);
    return await describeContainer(docker, container);
  } catch (error) {
    return notFoundIsFinal(error, container, where);
  }
}

export const dockerContainerRestart = lifecycleAction('restart', 'Restart a container', 'Restarts a container (stop with a grace time, then start) and reports its state afterwards.');
export const dockerContainerStop = lifecycleAction('stop', 'Stop a container', 'Stops a container with a grace time; stopping a stopped container succeeds.');
export const dockerContainerStart = lifecycleAction('start', 'Start a container', 'Starts a container; starting a running one succeeds.');

export const dockerContainerInspect = defineAction({
  id: 'docker.container.inspect',
  title: 'Inspect a container',
  description: 'Reads a container’s image, state, health, restart count, labels and ports.',
  risk: 'low',
  input: z.object({ endpoint: endpointArgument, container: containerArgument }).strict(),
  output: z.object({ id: z.string(), name: z.string(), image: z.string(), state: z.string(), health: z.string().optional(), restartCount: z.number(), labels: z.record(z.string(), z.string()), startedAt: z.string() }),
  defaults: { timeout: '1m', retry: { maxAttempts: 3, initialInterval: '1s', backoff: 2, maxInterval: '10s' } },
  create: (deps) => async (args, context) => {
    const docker = await dockerFor(deps, context, args.endpoint);
    try {
      const info = await docker.getContainer(args.container).inspect();
      return {
        id: info.Id.slice(0, 12),
        name: info.Name.replace(/^\//, ''),
        image: info.Config.Image,
        state: info.State.Status,
        ...(info.State.Health?.Status ? { health: info.State.Health.Status } : {}),
        restartCount: info.RestartCount,
        labels: info.Config.Labels ?? {},
        startedAt: info.State.StartedAt,
      };
    } catch (error) {
      return notFoundIsFinal(error, args.container);
    }
  },
});

export const dockerContainerLogs = defineAction({
  id: 'docker.container.logs',
  title: 'Copy a container’s logs into the run',
  description: 'Reads the last lines of a container’s output (stdout and stderr) into the run log.',
  risk: 'low',
  input: z.object({ endpoint: endpointArgument, container: containerArgument, tail: z.number().int().min(1).max(10_000).default(200) }).strict(),
  output: z.object({ lines: z.number() }),
  defaults: { timeout: '2m', retry: { maxAttempts: 3, initialInterval: '1s', backoff: 2, maxInterval: '10s' } },
  create: (deps) => async (args, context) => {
    const docker = await dockerFor(deps, context, args.endpoint);
    try {
      const buffer = (await docker.getContainer(args.container).logs({ stdout: true, stderr: true, tail: args.tail, follow: false })) as unknown as Buffer;
      const lines = demultiplexLogs(buffer);
      for (const line of lines) context.log(line.stream, line.text);
      return { lines: lines.length };
    } catch (error) {
      return notFoundIsFinal(error, args.container);
    }
  },
});

export const dockerImagePrune = defineAction({
  id: 'docker.image.prune',
  title: 'Remove unused images',
  description: 'Removes dangling images (or, with `all`, every image no container uses) and reports the space reclaimed.',
  risk: 'medium',
  input: z.object({ endpoint: endpointArgument, all: z.boolean().default(false) }).strict(),
  output: z.object({ deleted: z.number(), spaceReclaimed: z.number() }),
  defaults: { timeout: '10m', retry: { maxAttempts: 2, initialInterval: '5s', backoff: 2, maxInterval: '1m' } },
  create: (deps) => async (args, context) => {
    const docker = await dockerFor(deps, context, args.endpoint);
    const answer = await docker.pruneImages({ filters: { dangling: [args.all ? 'false' : 'true'] } });
    const deleted = answer.ImagesDeleted?.length ?? 0;
    context.log('system', `removed ${deleted} image(s), reclaimed ${answer.SpaceReclaimed ?? 0} bytes`);
    return { deleted, spaceReclaimed: answer.SpaceReclaimed ?? 0 };
  },
});
