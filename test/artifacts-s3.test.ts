// Run artifacts in an S3-compatible bucket: versitygw, a real S3 gateway
// with SigV4 auth (built by .ci/run), stands in for AWS S3. A step's file goes
// through the worker into the bucket and comes back through the API with its
// sha256; retention's hook empties the bucket of the run; a wrong secret is
// refused with a message that names the setting and never the secret.
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStoreError } from '../artifacts/artifact-store.js';
import { RunArtifacts } from '../artifacts/run-artifacts.js';
import { S3ArtifactStore } from '../artifacts/s3-artifact-store.js';
import { startApiForTests } from './api-harness.js';
import { writeManifests } from './files.js';
import { startS3Server } from './s3-server.js';

const OPERATOR = { email: 'ops@example.org', password: 'operator password 123', grants: [['dev', 'operator']] as Array<['dev', 'operator']> };
const OUTSIDER = { email: 'prod@example.org', password: 'prod password 123', grants: [['prod', 'operator']] as Array<['prod', 'operator']> };
const LIMITS = { maxFileBytes: 8 * 1024 * 1024, maxStepBytes: 16 * 1024 * 1024 };

let s3: Awaited<ReturnType<typeof startS3Server>>;
let api: Awaited<ReturnType<typeof startApiForTests>>;

beforeAll(async () => {
  s3 = await startS3Server();
  api = await startApiForTests(
    writeManifests({
      'package-build': `
name: package-build
title: Builds a package
steps:
  - id: build
    action: shell.run
    with:
      command: 'head -c 3000000 /dev/urandom > package.bin; echo built'
      shell: true
      artifacts: [{ path: package.bin, name: package-1.0.bin }]
    retry: { maxAttempts: 1 }
`,
    }),
    [OPERATOR, OUTSIDER],
    { artifacts: { backend: 's3', s3: s3.settings, limits: LIMITS } },
  );
}, 180_000);

afterAll(async () => {
  await api?.stop();
  await s3?.stop();
});

async function get(url: string, user: { email: string; password: string }) {
  const token = await api.logIn(user.email, user.password);
  return api.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
}

async function bucketKeys(): Promise<string[]> {
  const page = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.settings.bucket }));
  return (page.Contents ?? []).map((object) => object.Key ?? '');
}

describe('artifacts in an S3-compatible bucket', () => {
  it('stores a step’s file in the bucket under its id, serves it back with its sha256 to the run’s environment only, and retention’s hook removes it', async () => {
    const { id } = await api.services.runs.startRun({ runbook: 'package-build', inputs: {}, environment: 'dev', startedBy: OPERATOR.email });
    await api.temporal.workflow
      .getHandle(id)
      .result()
      .catch(() => undefined);
    const run = await api.services.runs.showRun(id);
    expect(run.status, run.error).toBe('COMPLETED');

    const [artifact] = (await get(`/runs/${encodeURIComponent(id)}/artifacts`, OPERATOR)).json() as Array<{ id: string; name: string; size: number; sha256: string }>;
    expect(artifact).toMatchObject({ name: 'package-1.0.bin', size: 3_000_000 });
    expect(await bucketKeys()).toContain(`jarvis-artifacts/${artifact!.id}`);
    // What the bucket holds is what was hashed.
    const object = await s3.client.send(new GetObjectCommand({ Bucket: s3.settings.bucket, Key: `jarvis-artifacts/${artifact!.id}` }));
    expect(
      createHash('sha256')
        .update(Buffer.from(await object.Body!.transformToByteArray()))
        .digest('hex'),
    ).toBe(artifact!.sha256);

    const download = await get(`/runs/${encodeURIComponent(id)}/artifacts/${artifact!.id}`, OPERATOR);
    expect(download.statusCode).toBe(200);
    expect(download.headers['content-length']).toBe('3000000');
    expect(createHash('sha256').update(download.rawPayload).digest('hex')).toBe(artifact!.sha256);
    expect((await get(`/runs/${encodeURIComponent(id)}/artifacts/${artifact!.id}`, OUTSIDER)).statusCode).toBe(403);

    expect(await api.services.artifacts.deleteRunArtifacts(id)).toBe(1);
    expect(await bucketKeys()).not.toContain(`jarvis-artifacts/${artifact!.id}`);
    expect((await get(`/runs/${encodeURIComponent(id)}/artifacts`, OPERATOR)).json()).toEqual([]);
    expect(await api.services.artifacts.deleteRunArtifacts(id)).toBe(0);
  }, 180_000);

  it('refuses to store with a wrong secret, naming the setting to fix and not the secret', async () => {
    const wrongSecret = `wrong-${randomBytes(12).toString('hex')}`;
    const store = new S3ArtifactStore({ ...s3.settings, secretAccessKey: wrongSecret });
    const pool = new pg.Pool({ connectionString: api.databaseUrl, max: 1 });
    try {
      const artifacts = new RunArtifacts(pool, store, LIMITS);
      const origin = { runId: `denied@dev.${randomBytes(4).toString('hex')}`, executionId: 'e1', environment: 'dev', stepId: 'build', attempt: 1 };
      const error = await artifacts.publish(origin, { name: 'x.txt', contentType: 'text/plain', size: 5, open: () => Readable.from([Buffer.from('hello')]) }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ArtifactStoreError);
      expect((error as Error).message).toMatch(
        /S3 refused storing an artifact in bucket artifacts-[0-9a-f]+: SignatureDoesNotMatch \(HTTP 403\) — check JARVIS_ARTIFACTS_S3_ACCESS_KEY_ID and JARVIS_ARTIFACTS_S3_SECRET_ACCESS_KEY/,
      );
      expect((error as Error).message).not.toContain(wrongSecret);
      // Nothing recorded, nothing stored.
      expect(await artifacts.list(origin.runId)).toEqual([]);
      expect(await bucketKeys()).toEqual([]);
    } finally {
      store.close();
      await pool.end();
    }
  }, 60_000);
});
