// Cloud servers on Hetzner Cloud or DigitalOcean, through a provider
// connection of the run's environment. Create and wait are separate steps so a
// runbook can register `vps.server.destroy` as the compensation of `create`:
// whatever fails after the server exists then destroys it.
import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { openProvider, ProviderError, waitUntilActive, type VpsProvider } from '../../infra/vps-providers.js';
import { parseDuration } from '../../manifest/duration.js';
import { defineAction, durationArgument, type ActionContext, type ActionDependencies } from '../action.js';
import { openConnection } from '../connections.js';

const connectionArgument = z.string().min(1).describe('A `hetzner` or `digitalocean` connection (its secret is the API token)');

function providerFor(deps: ActionDependencies, context: ActionContext, name: string): Promise<VpsProvider> {
  return openConnection(deps, context, name, openProvider, ProviderError);
}

/** A refusal (bad token, bad request) is final; an outage or a timeout is worth a retry. */
function classify(error: unknown): never {
  if (error instanceof ProviderError && error.final) throw ApplicationFailure.nonRetryable(error.message, 'ProviderRefused');
  throw error;
}

const serverOutput = z.object({ id: z.string(), name: z.string(), status: z.string(), ipv4: z.string().optional() });

export const vpsServerCreate = defineAction({
  id: 'vps.server.create',
  title: 'Create a cloud server',
  description: 'Asks the provider for a server (size, region, image, SSH keys) and answers its id at once; wait for it with vps.server.wait.',
  risk: 'high',
  input: z
    .object({ connection: connectionArgument, name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/), size: z.string().min(1), region: z.string().min(1), image: z.string().min(1), sshKeys: z.array(z.string()).default([]) })
    .strict(),
  output: serverOutput,
  // Not retried blindly: a second create could make a second server.
  defaults: { timeout: '2m', retry: { maxAttempts: 1, initialInterval: '1s', backoff: 2, maxInterval: '1m' } },
  create: (deps) => async (args, context) => {
    const provider = await providerFor(deps, context, args.connection);
    const server = await provider.create({ name: args.name, size: args.size, region: args.region, image: args.image, sshKeys: args.sshKeys }).catch(classify);
    context.log('system', `${provider.kind} server ${server.name} (${server.id}) is ${server.status}`);
    return server;
  },
});

export const vpsServerWait = defineAction({
  id: 'vps.server.wait',
  title: 'Wait for a cloud server',
  description: 'Waits until the server is active and has a public IPv4 address.',
  risk: 'low',
  input: z.object({ connection: connectionArgument, id: z.string().min(1), timeout: durationArgument.default('10m'), interval: durationArgument.default('5s') }).strict(),
  output: serverOutput,
  defaults: { timeout: '15m', retry: { maxAttempts: 3, initialInterval: '5s', backoff: 2, maxInterval: '1m' } },
  create: (deps) => async (args, context) => {
    const provider = await providerFor(deps, context, args.connection);
    let last = '';
    return waitUntilActive(provider, args.id, {
      timeoutMs: parseDuration(args.timeout) ?? 600_000,
      intervalMs: parseDuration(args.interval) ?? 5_000,
      signal: context.signal,
      onStatus: (status) => {
        if (status !== last) context.log('system', `server ${args.id}: ${status}`);
        last = status;
        context.heartbeat();
      },
    }).catch(classify);
  },
});

export const vpsServerDestroy = defineAction({
  id: 'vps.server.destroy',
  title: 'Destroy a cloud server',
  description: 'Deletes a server; deleting one that is already gone succeeds.',
  risk: 'high',
  input: z.object({ connection: connectionArgument, id: z.string().min(1) }).strict(),
  output: z.object({ destroyed: z.boolean() }),
  defaults: { timeout: '2m', retry: { maxAttempts: 5, initialInterval: '2s', backoff: 2, maxInterval: '1m' } },
  create: (deps) => async (args, context) => {
    const provider = await providerFor(deps, context, args.connection);
    const destroyed = await provider.destroy(args.id).catch(classify);
    context.log('system', destroyed ? `destroyed server ${args.id}` : `server ${args.id} was already gone`);
    return { destroyed };
  },
});
