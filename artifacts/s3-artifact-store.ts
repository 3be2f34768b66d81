// Artifacts in an S3-compatible bucket through the official AWS SDK. One
// PutObject per artifact: S3 makes an object visible only once it is whole.
// Errors are rewritten to say what failed without the request's credentials.
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import type { S3Settings } from './artifact-settings.js';
import { ArtifactStoreError, checkArtifactKey, type ArtifactStore, type StoredObject } from './artifact-store.js';

export class S3ArtifactStore implements ArtifactStore {
  readonly backend = 's3' as const;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(settings: S3Settings) {
    this.bucket = settings.bucket;
    this.prefix = settings.prefix;
    this.client = new S3Client({
      region: settings.region,
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      forcePathStyle: settings.forcePathStyle,
      credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
      // Plain PutObject with a known length: S3-compatible servers need not speak aws-chunked trailers.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
    });
  }

  private keyOf(key: string): string {
    return `${this.prefix}${checkArtifactKey(key)}`;
  }

  async put(key: string, body: Readable, size: number, contentType: string, signal?: AbortSignal): Promise<void> {
    await this.send('storing an artifact', () =>
      this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key), Body: body, ContentLength: size, ContentType: contentType }), signal ? { abortSignal: signal } : {}),
    );
  }

  async get(key: string): Promise<Readable> {
    const answer = await this.send('reading an artifact', () => this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) })));
    if (!(answer.Body instanceof Readable)) throw new ArtifactStoreError(`artifact object ${key} came back without a body`);
    return answer.Body;
  }

  async delete(key: string): Promise<void> {
    await this.send('deleting an artifact', () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) })));
  }

  async *list(): AsyncIterable<StoredObject> {
    let token: string | undefined;
    do {
      const page = await this.send('listing artifacts', () => this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, ...(token ? { ContinuationToken: token } : {}) })));
      for (const object of page.Contents ?? []) {
        if (object.Key) yield { key: object.Key.slice(this.prefix.length), modifiedAt: object.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** Turns the SDK's errors into ours: which bucket, what S3 answered, never the signature or the secret. */
  private async send<Answer>(what: string, request: () => Promise<Answer>): Promise<Answer> {
    try {
      return await request();
    } catch (error) {
      if (error instanceof S3ServiceException) {
        const status = error.$metadata.httpStatusCode;
        throw new ArtifactStoreError(`S3 refused ${what} in bucket ${this.bucket}: ${error.name}${status ? ` (HTTP ${status})` : ''}${hintFor(error.name)}`);
      }
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new ArtifactStoreError(`S3 failed ${what} in bucket ${this.bucket}: ${reason.slice(0, 300)}`);
    }
  }

  close(): void {
    this.client.destroy();
  }
}

function hintFor(code: string): string {
  if (code === 'SignatureDoesNotMatch' || code === 'InvalidAccessKeyId' || code === 'AccessDenied') {
    return ' — check JARVIS_ARTIFACTS_S3_ACCESS_KEY_ID and JARVIS_ARTIFACTS_S3_SECRET_ACCESS_KEY';
  }
  if (code === 'NoSuchBucket') return ' — create the bucket or fix JARVIS_ARTIFACTS_S3_BUCKET';
  return '';
}
