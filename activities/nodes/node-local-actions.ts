// Actions a node's agent performs on its own machine: its hardware profile,
// a health sample, and its local Docker containers. A step using one names
// the node (`node:`); the run schedules it on that node's task queue.
import { ApplicationFailure } from '@temporalio/activity';
import Docker from 'dockerode';
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { listContainers } from '../../infra/docker-endpoint.js';
import { nodeHealthSchema } from '../../infra/node-health.js';
import { collectHealth, collectProfile } from '../../infra/node-probe.js';
import { hardwareProfileSchema } from '../../infra/node-profile.js';
import { defineAction, type ActionDependencies } from '../action.js';
import { containerState as endpointContainerState, setContainerState } from '../docker/docker-actions.js';

const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';
const socketOf = (deps: ActionDependencies) => deps.dockerSocket ?? DEFAULT_DOCKER_SOCKET;

/** The node's Docker engine; a node without one cannot run container actions, however often they are retried. */
function localDocker(deps: ActionDependencies): Docker {
  const socketPath = socketOf(deps);
  if (!existsSync(socketPath)) throw ApplicationFailure.nonRetryable(`this node has no Docker socket at ${socketPath} (JARVIS_AGENT_DOCKER_SOCKET)`, 'NoDocker');
  return new Docker({ socketPath, timeout: 60_000 });
}

export const nodeProfile = defineAction({
  id: 'node.profile',
  title: 'Read a node’s hardware profile',
  description: 'On the node: OS, CPUs, memory, disks, network interfaces, Docker version and Swarm membership.',
  risk: 'low',
  runsOn: 'node',
  input: z.object({}).strict(),
  output: hardwareProfileSchema,
  defaults: { timeout: '1m', retry: { maxAttempts: 3, initialInterval: '1s', backoff: 2, maxInterval: '10s' } },
  create: (deps) => async () => collectProfile(socketOf(deps)),
});

export const nodeHealth = defineAction({
  id: 'node.health',
  title: 'Check a node’s health',
  description: 'On the node: load averages, free memory, disk use and uptime.',
  risk: 'low',
  runsOn: 'node',
  input: z.object({}).strict(),
  output: nodeHealthSchema,
  defaults: { timeout: '30s', retry: { maxAttempts: 2, initialInterval: '1s', backoff: 2, maxInterval: '5s' } },
  create: () => async () => collectHealth(),
});

const containerArgument = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a container name or id')
  .describe('Container name or id');
// The endpoint actions' state without the restart count, as node actions have always answered.
const containerState = endpointContainerState.omit({ restartCount: true });

export const nodeContainerList = defineAction({
  id: 'node.container.list',
  title: 'List a node’s containers',
  description: 'On the node: its local Docker containers, grouped by Swarm stack or Compose project.',
  risk: 'low',
  runsOn: 'node',
  input: z.object({ all: z.boolean().default(true).describe('Include stopped containers') }).strict(),
  output: z.object({ containers: z.array(z.object({ group: z.string(), name: z.string(), image: z.string(), state: z.string() })) }),
  defaults: { timeout: '1m', retry: { maxAttempts: 3, initialInterval: '1s', backoff: 2, maxInterval: '10s' } },
  create: (deps) => async (args) => {
    const groups = await listContainers(localDocker(deps));
    const containers = groups.flatMap((group) => group.containers.map((container) => ({ group: group.group, name: container.name, image: container.image, state: container.state })));
    return { containers: args.all ? containers : containers.filter((container) => container.state === 'running') };
  },
});

function nodeLifecycle(verb: 'restart' | 'stop' | 'start', title: string) {
  return defineAction({
    id: `node.container.${verb}`,
    title,
    description: `On the node: ${verb}s one of its local Docker containers and reports its state afterwards.`,
    risk: verb === 'start' ? 'low' : 'medium',
    runsOn: 'node',
    input: z.object({ container: containerArgument, timeoutSeconds: z.number().int().min(0).max(600).default(10) }).strict(),
    output: containerState,
    defaults: { timeout: '2m', retry: { maxAttempts: 3, initialInterval: '2s', backoff: 2, maxInterval: '30s' } },
    create: (deps) => async (args, context) => {
      context.log('system', `${verb} ${args.container}`);
      return containerState.parse(await setContainerState(localDocker(deps), args.container, verb, args.timeoutSeconds, 'on this node'));
    },
  });
}

export const nodeContainerRestart = nodeLifecycle('restart', 'Restart a container on a node');
export const nodeContainerStop = nodeLifecycle('stop', 'Stop a container on a node');
export const nodeContainerStart = nodeLifecycle('start', 'Start a container on a node');
