// A real S3-compatible server for tests: versitygw (built by .ci/run into the
// cache) serving a temporary folder through its POSIX backend, with SigV4
// auth, on a free loopback port; a bucket is created through the AWS SDK.
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../config/free-port.js';
import type { S3Settings } from '../artifacts/artifact-settings.js';

export const VERSITYGW_PATH = path.join(os.homedir(), '.cache', 'jarvis', 'bin', 'versitygw');

export async function startS3Server() {
  if (!existsSync(VERSITYGW_PATH)) throw new Error(`versitygw is not built at ${VERSITYGW_PATH}: run .ci/run --setup-only`);
  const folder = mkdtempSync(path.join(os.tmpdir(), 'jarvis-s3-'));
  const port = await freePort();
  const accessKeyId = `jarvis${randomBytes(6).toString('hex')}`;
  const secretAccessKey = randomBytes(24).toString('base64url');
  const child: ChildProcess = spawn(VERSITYGW_PATH, ['--access', accessKeyId, '--secret', secretAccessKey, '--port', `127.0.0.1:${port}`, '--region', 'us-east-1', 'posix', folder], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const endpoint = `http://127.0.0.1:${port}`;
  const bucket = `artifacts-${randomBytes(4).toString('hex')}`;
  const settings: S3Settings = { endpoint, region: 'us-east-1', bucket, prefix: 'jarvis-artifacts/', accessKeyId, secretAccessKey, forcePathStyle: true };
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });
  // Listening once a bucket can be created.
  for (let tries = 0; ; tries += 1) {
    try {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      break;
    } catch (error) {
      if (tries > 150 || child.exitCode !== null) throw new Error(`versitygw did not start: ${(error as Error).message}\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return {
    settings,
    client,
    /** The folder the gateway keeps buckets in (bucket/key as files). */
    folder,
    async stop() {
      client.destroy();
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
      rmSync(folder, { recursive: true, force: true });
    },
  };
}
