// TLS and mutual TLS to Temporal, from config/env.ts. In production Temporal
// is reached over mTLS: only processes holding a client certificate signed by
// the installation's CA (the API, workers, the CLI, agents) can talk to it.
import type { TLSConfig } from '@temporalio/client';
import { readFileSync } from 'node:fs';
import type { JarvisEnv } from '../config/env.js';

export interface TemporalTlsSettings {
  /** PEM file of the CA that signed the server's certificate (otherwise the system's roots). */
  caFile?: string;
  /** PEM files of this process's client certificate and key (mTLS). */
  certFile?: string;
  keyFile?: string;
  /** The name the server's certificate is checked against, when it differs from the address's host. */
  serverName?: string;
}

export class TemporalTlsError extends Error {
  override name = 'TemporalTlsError';
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new TemporalTlsError(`cannot read ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** The SDK's TLS options for the settings; undefined: plain TCP (a local dev server). */
export function temporalTlsConfig(settings: TemporalTlsSettings | undefined): TLSConfig | undefined {
  if (!settings) return undefined;
  return {
    ...(settings.serverName ? { serverNameOverride: settings.serverName } : {}),
    ...(settings.caFile ? { serverRootCACertificate: readPem(settings.caFile, 'the Temporal CA certificate (TEMPORAL_TLS_CA_FILE)') } : {}),
    ...(settings.certFile && settings.keyFile
      ? {
          clientCertPair: {
            crt: readPem(settings.certFile, 'the Temporal client certificate (TEMPORAL_TLS_CERT_FILE)'),
            key: readPem(settings.keyFile, 'the Temporal client key (TEMPORAL_TLS_KEY_FILE)'),
          },
        }
      : {}),
  };
}

/** The installation's TLS to Temporal. */
export function temporalTlsOf(env: Pick<JarvisEnv, 'temporalTls'>): TLSConfig | undefined {
  return temporalTlsConfig(env.temporalTls);
}
