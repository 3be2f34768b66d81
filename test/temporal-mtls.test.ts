// Temporal over mutual TLS, end to end: the worker and the API's client hold
// a client certificate of the installation's CA and a run completes; a client
// without a certificate, with one from another CA, or in plain TCP is refused.
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { loadEnv, parseEnv } from '../config/env.js';
import { actionCatalog } from '../activities/catalog.js';
import { RunbookCatalog } from '../manifest/catalog.js';
import { RunService } from '../runs/run-service.js';
import { runAuthorityOf } from '../security/run-authority.js';
import { connectToTemporal } from '../temporal/client.js';
import { temporalTlsOf } from '../temporal/tls.js';
import { actionProcessPolicyOf, createRunbookWorker } from '../temporal/worker.js';
import { collectingLineSink } from './line-sinks.js';
import { testDataConverter, uniqueTaskQueue, writeManifests } from './harness.js';
import { makeTestPki, startMtlsTerminator, type TestPki } from './tls-terminator.js';

const hello = `
name: hello
title: Says hello
environments: [dev]
requiredRole: operator
steps:
  - id: hi
    action: shell.run
    with: { command: echo, args: [hello over mTLS] }
`;

let pki: TestPki;
let terminator: Awaited<ReturnType<typeof startMtlsTerminator>>;

beforeAll(async () => {
  pki = makeTestPki();
  terminator = await startMtlsTerminator(pki, inject('temporalAddress'));
});

afterAll(async () => {
  await terminator?.stop();
});

/** The settings a process of the installation reads from its environment. */
function tlsEnv(files: Record<string, string>) {
  return parseEnv({ TEMPORAL_TLS_SERVER_NAME: 'temporal.test', TEMPORAL_TLS_CA_FILE: pki.caFile, ...files });
}

describe('Temporal over mutual TLS', () => {
  it('runs a runbook when the worker and the client present client certificates of the CA', async () => {
    const env = tlsEnv({ TEMPORAL_TLS_CERT_FILE: pki.clientCertFile, TEMPORAL_TLS_KEY_FILE: pki.clientKeyFile });
    const tls = temporalTlsOf(env);
    const taskQueue = uniqueTaskQueue('mtls');
    const { worker, connection: workerConnection } = await createRunbookWorker({
      address: terminator.address,
      ...(tls ? { tls } : {}),
      namespace: 'default',
      taskQueue,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      shutdownGraceMs: 1_000,
      playbooksDir: loadEnv().playbooksDir,
      processes: actionProcessPolicyOf(loadEnv()),
      authority: runAuthorityOf(loadEnv()),
      lineSink: collectingLineSink(),
      dataConverter: testDataConverter(),
    });
    const running = worker.run();
    const connection = await connectToTemporal(terminator.address, 10_000, tls);
    try {
      const client = new Client({ connection, dataConverter: testDataConverter() });
      const runs = new RunService(client, await RunbookCatalog.fromDirectory(writeManifests({ hello }), actionCatalog), taskQueue, runAuthorityOf(loadEnv()));
      const { id } = await runs.startRun({ runbook: 'hello', inputs: {}, environment: 'dev', startedBy: 'operator@example.org' });
      const result = (await client.workflow.getHandle(id).result()) as { outputs: { hi: { stdout: string } } };
      expect(result.outputs.hi.stdout).toBe('hello over mTLS');
    } finally {
      worker.shutdown();
      await running;
      await workerConnection.close();
      await connection.close();
    }
  });

  it('refuses a client without a certificate, with one of another CA, or without TLS', async () => {
    const before = terminator.refusals;
    const attempt = (tls: Parameters<typeof connectToTemporal>[2]) =>
      Connection.connect({ address: terminator.address, connectTimeout: 3_000, ...(tls ? { tls } : {}) }).then(async (connection) => {
        try {
          await connection.workflowService.getSystemInfo({});
          return 'connected';
        } finally {
          await connection.close();
        }
      });
    await expect(attempt(temporalTlsOf(tlsEnv({})))).rejects.toThrow();
    await expect(attempt(temporalTlsOf(tlsEnv({ TEMPORAL_TLS_CERT_FILE: pki.strangerCertFile, TEMPORAL_TLS_KEY_FILE: pki.strangerKeyFile })))).rejects.toThrow();
    await expect(attempt(undefined)).rejects.toThrow();
    expect(terminator.refusals).toBeGreaterThan(before);
  });

  it('says which setting is missing when a client certificate comes without its key', () => {
    expect(() => tlsEnv({ TEMPORAL_TLS_CERT_FILE: pki.clientCertFile })).toThrow(/TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE go together/);
  });
});
