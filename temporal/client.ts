import { Client, Connection, type TLSConfig } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';

export interface TemporalTarget {
  address: string;
  namespace: string;
  /** TLS or mTLS (temporal/tls.ts); plain TCP without. */
  tls?: TLSConfig;
}

/** Connects to Temporal, retrying for a while so a server that is still starting is waited for. */
export async function connectToTemporal(address: string, timeoutMs = 10_000, tls?: TLSConfig): Promise<Connection> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2_000, ...(tls ? { tls } : {}) });
      await connection.workflowService.getSystemInfo({});
      return connection;
    } catch (error) {
      if (Date.now() >= deadline) {
        throw new Error(`cannot reach Temporal at ${address}: ${(error as Error).message}. Start it with "npm start" or set TEMPORAL_ADDRESS.`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

export async function createTemporalClient(target: TemporalTarget, dataConverter: DataConverter, timeoutMs?: number): Promise<Client> {
  const connection = await connectToTemporal(target.address, timeoutMs, target.tls);
  return new Client({ connection, namespace: target.namespace, dataConverter });
}
