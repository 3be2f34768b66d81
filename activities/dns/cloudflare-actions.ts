// DNS actions on Cloudflare, through a `cloudflare` connection of the run's environment.
import { ApplicationFailure } from '@temporalio/activity';
import Cloudflare from 'cloudflare';
import { z } from 'zod';
import { deleteRecords, DnsError, openCloudflare, upsertRecord } from '../../infra/cloudflare-dns.js';
import { defineAction, type ActionContext, type ActionDependencies } from '../action.js';
import { openConnection } from '../connections.js';

const recordArguments = {
  connection: z.string().min(1).describe('The name of a `cloudflare` connection (its secret is the API token)'),
  zone: z.string().min(1),
  name: z.string().min(1),
  type: z.enum(['A', 'AAAA', 'CNAME', 'TXT']).default('A'),
};

function cloudflareFor(deps: ActionDependencies, context: ActionContext, name: string): Promise<Cloudflare> {
  return openConnection(deps, context, name, openCloudflare, DnsError);
}

/** What Cloudflare refuses (4xx other than rate limits, which the SDK already retried) will not change on retry. */
function classify(error: unknown): never {
  if (error instanceof DnsError) throw ApplicationFailure.nonRetryable(error.message, 'DnsError');
  if (error instanceof Cloudflare.APIError && error.status !== undefined && error.status >= 400 && error.status < 500 && error.status !== 429) {
    throw ApplicationFailure.nonRetryable(`Cloudflare refused the change (${error.status}): ${error.message}`, 'CloudflareRefused');
  }
  throw error;
}

export const cloudflareDnsUpsert = defineAction({
  id: 'cloudflare.dns.upsert',
  title: 'Create or update a DNS record',
  description: 'Makes a DNS record on Cloudflare say what is asked (zone looked up by name); running it twice changes nothing the second time.',
  risk: 'medium',
  input: z.object({ ...recordArguments, content: z.string().min(1), ttl: z.number().int().min(1).max(86_400).default(1), proxied: z.boolean().default(false) }).strict(),
  output: z.object({ action: z.enum(['created', 'updated', 'unchanged']), id: z.string(), name: z.string() }),
  defaults: { timeout: '2m', retry: { maxAttempts: 5, initialInterval: '2s', backoff: 2, maxInterval: '1m' } },
  create: (deps) => async (args, context) => {
    const client = await cloudflareFor(deps, context, args.connection);
    const result = await upsertRecord(client, { zone: args.zone, name: args.name, type: args.type, content: args.content, ttl: args.ttl, proxied: args.proxied }).catch(classify);
    context.log('system', `${args.type} ${result.name} → ${args.content}: ${result.action}`);
    return result;
  },
});

export const cloudflareDnsDelete = defineAction({
  id: 'cloudflare.dns.delete',
  title: 'Delete a DNS record',
  description: 'Deletes the records of a name and type on Cloudflare; deleting what does not exist succeeds.',
  risk: 'medium',
  input: z.object(recordArguments).strict(),
  output: z.object({ deleted: z.number(), name: z.string() }),
  defaults: { timeout: '2m', retry: { maxAttempts: 5, initialInterval: '2s', backoff: 2, maxInterval: '1m' } },
  create: (deps) => async (args, context) => {
    const client = await cloudflareFor(deps, context, args.connection);
    const result = await deleteRecords(client, { zone: args.zone, name: args.name, type: args.type }).catch(classify);
    context.log('system', `deleted ${result.deleted} ${args.type} record(s) for ${result.name}`);
    return result;
  },
});
