// Temporal's own retention: the namespace keeps every closed execution for one
// duration, whatever its environment. Jarvis sets it to the longest runs
// retention of any environment; the purge deletes the runs of environments
// that keep them for less.
import type { Client } from '@temporalio/client';
import Long from 'long';

const DAY_SECONDS = 86_400;

/** The namespace's workflow execution retention, in milliseconds. */
export async function namespaceRetentionMs(client: Client): Promise<number | undefined> {
  const answer = await client.workflowService.describeNamespace({ namespace: client.options.namespace });
  const ttl = answer.config?.workflowExecutionRetentionTtl;
  if (!ttl) return undefined;
  return Number(ttl.seconds ?? 0) * 1_000 + Math.round((ttl.nanos ?? 0) / 1e6);
}

/** Sets the namespace's retention (whole days, at least one: Temporal's minimum); answers what it is now. */
export async function setNamespaceRetention(client: Client, ms: number): Promise<number> {
  const seconds = Math.max(1, Math.ceil(ms / 1_000 / DAY_SECONDS)) * DAY_SECONDS;
  if ((await namespaceRetentionMs(client)) === seconds * 1_000) return seconds * 1_000;
  await client.workflowService.updateNamespace({ namespace: client.options.namespace, config: { workflowExecutionRetentionTtl: { seconds: Long.fromNumber(seconds) } } });
  return seconds * 1_000;
}
