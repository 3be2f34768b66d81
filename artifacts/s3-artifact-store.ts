// Artifacts in an S3-compatible bucket through the official AWS SDK. One
// PutObject per artifact: S3 makes an object visible only once it is whole.
// Errors are rewritten to say what failed without the request's credentials.
// The SDK is loaded on first use: an installation on the local disk never loads it.
import type { S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import type { S3Settings } from './artifact-settings.js';
import { ArtifactStoreError, checkArtifactKey, type ArtifactStore, type StoredObject } from './artifact-store.js';

export class S3ArtifactStore implements ArtifactStore {
  readonly backend = 's3' as const;
  private readonly bucket: string;
  private readonly prefix: string;
  private sdk?: Promise<{ module: typeof import('@aws-sdk/client-s3'); client: S3Client }>;

  constructor(private readonly settings: S3Settings) {
    this.bucket = settings.bucket;
    this.prefix = settings.prefix;
  }

  private connect() {
    this.sdk ??= import('@aws-sdk/client-s3').then((module) => ({ module, client: this.createClient(module) }));
    return this.sdk;
  }

  private createClient({ S3Client }: typeof import('@aws-sdk/client-s3')): S3Client {
    const settings = this.settings;
    return new S3Client({
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
    await this.send('storing an artifact', ({ module: { PutObjectCommand }, client }) =>
      client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key), Body: body, ContentLength: size, ContentType: contentType }), signal ? { abortSignal: signal } : {}),
    );
  }

  async get(key: string): Promise<Readable> {
    const answer = await this.send('reading an artifact', ({ module: { GetObjectCommand }, client }) => client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) })));
    if (!(answer.Body instanceof Readable)) throw new ArtifactStoreError(`artifact object ${key} came back without a body`);
    return answer.Body;
  }

  async delete(key: string): Promise<void> {
    await this.send('deleting an artifact', ({ module: { DeleteObjectCommand }, client }) => client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) })));
  }

  async *list(): AsyncIterable<StoredObject> {
    let token: string | undefined;
    do {
      const page = await this.send('listing artifacts', ({ module: { ListObjectsV2Command }, client }) =>
        client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, ...(token ? { ContinuationToken: token } : {}) })),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key) yield { key: object.Key.slice(this.prefix.length), modifiedAt: object.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** Turns the SDK's errors into ours: which bucket, what S3 answered, never the signature or the secret. */
  private async send<Answer>(what: string, request: (sdk: Awaited<ReturnType<S3ArtifactStore['connect']>>) => Promise<Answer>): Promise<Answer> {
    const sdk = await this.connect();
    try {
      return await request(sdk);
    } catch (error) {
      if (error instanceof sdk.module.S3ServiceException) {
        const status = error.$metadata.httpStatusCode;
        throw new ArtifactStoreError(`S3 refused ${what} in bucket ${this.bucket}: ${error.name}${status ? ` (HTTP ${status})` : ''}${hintFor(error.name)}`);
      }
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new ArtifactStoreError(`S3 failed ${what} in bucket ${this.bucket}: ${reason.slice(0, 300)}`);
    }
  }

  close(): void {
    void this.sdk?.then(({ client }) => client.destroy());
  }
}

function hintFor(code: string): string {
  if (code === 'SignatureDoesNotMatch' || code === 'InvalidAccessKeyId' || code === 'AccessDenied') {
    return ' — check JARVIS_ARTIFACTS_S3_ACCESS_KEY_ID and JARVIS_ARTIFACTS_S3_SECRET_ACCESS_KEY';
  }
  if (code === 'NoSuchBucket') return ' — create the bucket or fix JARVIS_ARTIFACTS_S3_BUCKET';
  return '';
}
