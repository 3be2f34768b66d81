import { Client, Connection, type TLSConfig } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';

export interface TemporalTarget {
  address: string;
  namespace: string;
  /** TLS or mTLS (temporal/tls.ts); plain TCP without. */
  tls?: TLSConfig;
}

async function connectOnce(address: string, tls?: TLSConfig): Promise<Connection> {
  const connection = await Connection.connect({ address, connectTimeout: 2_000, ...(tls ? { tls } : {}) });
  try {
    await connection.workflowService.getSystemInfo({});
    return connection;
  } catch (error) {
    await connection.close();
    throw error;
  }
}

/** Connects to Temporal, retrying for a while so a server that is still starting is waited for. */
export async function connectToTemporal(address: string, timeoutMs = 10_000, tls?: TLSConfig): Promise<Connection> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await connectOnce(address, tls);
    } catch (error) {
      if (Date.now() >= deadline) {
        throw new Error(`cannot reach Temporal at ${address}: ${(error as Error).message}. Start it with "npm start" or set TEMPORAL_ADDRESS.`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** How long a waiting process pauses between attempts: doubling from half a second up to ten. */
function reconnectDelayMs(attempt: number): number {
  return Math.min(500 * 2 ** attempt, 10_000);
}

/**
 * Connects to Temporal however long it takes, for a process that has nothing
 * to do without it (a worker started before its server, or while it is
 * down): retries with backoff and logs every failed attempt.
 */
export async function waitForTemporal(address: string, log: (line: string) => void, tls?: TLSConfig): Promise<Connection> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await connectOnce(address, tls);
    } catch (error) {
      const delayMs = reconnectDelayMs(attempt);
      log(`Temporal at ${address} is not reachable (${(error as Error).message}); trying again in ${delayMs / 1000}s`);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

export async function createTemporalClient(target: TemporalTarget, dataConverter: DataConverter, timeoutMs?: number): Promise<Client> {
  const connection = await connectToTemporal(target.address, timeoutMs, target.tls);
  return new Client({ connection, namespace: target.namespace, dataConverter });
}
