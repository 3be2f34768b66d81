// Publishing, listing, reading and deleting the artifacts of runs. An
// artifact's bytes are stored (under a key made from a fresh id) and hashed
// first; its row is written last, so a listed artifact is always whole. A
// crash between the two leaves an object without a row, which sweepOrphans
// removes.
import { formatBytes } from './artifact-contract.js';
import { createHash, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Transform, type TransformCallback } from 'node:stream';
import type { ArtifactLimits } from './artifact-settings.js';
import { ArtifactRecords, type ArtifactOrigin, type RunArtifact } from './artifact-records.js';
import { ArtifactStoreError, isArtifactKey, type ArtifactStore } from './artifact-store.js';

export type { ArtifactOrigin, RunArtifact } from './artifact-records.js';

/** Something to publish: its bytes, read once as a stream of exactly `size` bytes. */
export interface ArtifactSource {
  name: string;
  contentType: string;
  size: number;
  open(): Readable;
}

export interface PublishOptions {
  signal?: AbortSignal;
  /** Called as bytes go out (about every MiB), so a long upload keeps its activity alive. */
  progress?: (bytes: number) => void;
}

/** A step broke a rule of artifacts (too large, a bad name): its failure says which. */
export class ArtifactRejectedError extends Error {
  override name = 'ArtifactRejectedError';
}

const CONTENT_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}(\s*;\s*[A-Za-z0-9_-]+=[A-Za-z0-9_.-]+)?$/;
const PROGRESS_EVERY = 1024 * 1024;

export function checkArtifactName(name: string): string {
  if (name.length === 0 || name.length > 255 || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new ArtifactRejectedError(`artifact name ${JSON.stringify(name.slice(0, 80))} must be 1 to 255 characters without control characters`);
  }
  return name;
}

export function checkContentType(contentType: string): string {
  if (!CONTENT_TYPE.test(contentType)) throw new ArtifactRejectedError(`${JSON.stringify(contentType.slice(0, 80))} is not a content type (e.g. text/plain)`);
  return contentType;
}


/** Hashes and counts what passes through; more bytes than announced is an error (the file grew while read). */
class Meter extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  private reported = 0;

  constructor(
    private readonly expected: number,
    private readonly progress?: (bytes: number) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.expected) {
      callback(new ArtifactRejectedError(`the file grew past its ${this.expected} bytes while it was stored`));
      return;
    }
    this.hash.update(chunk);
    if (this.progress && this.bytes - this.reported >= PROGRESS_EVERY) {
      this.reported = this.bytes;
      this.progress(this.bytes);
    }
    callback(null, chunk);
  }
}

export class RunArtifacts {
  private readonly records: ArtifactRecords;

  constructor(
    pool: ConstructorParameters<typeof ArtifactRecords>[0],
    readonly store: ArtifactStore,
    readonly limits: ArtifactLimits,
  ) {
    this.records = new ArtifactRecords(pool);
  }

  /** Refuses a file over the per-file limit, or a step's files over the per-step limit, before anything is stored. */
  checkSizes(files: Array<{ name: string; size: number }>): void {
    for (const file of files) {
      if (file.size > this.limits.maxFileBytes) {
        throw new ArtifactRejectedError(`artifact ${file.name} is ${formatBytes(file.size)}, over the limit of ${formatBytes(this.limits.maxFileBytes)} per file (JARVIS_ARTIFACTS_MAX_FILE_SIZE)`);
      }
    }
    const total = files.reduce((sum, file) => sum + file.size, 0);
    if (total > this.limits.maxStepBytes) {
      throw new ArtifactRejectedError(`the step's artifacts are ${formatBytes(total)} in all, over the limit of ${formatBytes(this.limits.maxStepBytes)} per step (JARVIS_ARTIFACTS_MAX_STEP_SIZE)`);
    }
  }

  /**
   * Stores, hashes and records one artifact. The same attempt publishing the
   * same name again (a retried activity, a replayed call) gets the artifact it
   * already published.
   */
  async publish(origin: ArtifactOrigin, source: ArtifactSource, options: PublishOptions = {}): Promise<RunArtifact> {
    checkArtifactName(source.name);
    checkContentType(source.contentType);
    this.checkSizes([source]);
    const existing = await this.records.find(origin, source.name);
    if (existing) return existing;
    const id = randomUUID();
    const meter = new Meter(source.size, options.progress);
    const body = source.open();
    body.on('error', (error) => meter.destroy(error));
    // The store's pipeline reads the error from the destroyed meter; until it is attached, nothing else listens.
    meter.on('error', () => undefined);
    body.pipe(meter);
    let stored = false;
    try {
      await this.store.put(id, meter, source.size, source.contentType, options.signal);
      stored = true;
      if (meter.bytes !== source.size) throw new ArtifactRejectedError(`artifact ${source.name} changed while it was stored (${meter.bytes} of ${source.size} bytes)`);
      const sha256 = meter.hash.digest('hex');
      const recorded = await this.records.insert({ id, ...origin, name: source.name, contentType: source.contentType, size: source.size, sha256, backend: this.store.backend, storageKey: id });
      if (recorded) return recorded;
      // Another try of this attempt recorded it meanwhile: its artifact stands, this copy goes.
      await this.store.delete(id);
      const winner = await this.records.find(origin, source.name);
      if (!winner) throw new Error(`artifact ${source.name} was recorded and is gone`);
      return winner;
    } catch (error) {
      body.destroy();
      if (stored) await this.store.delete(id).catch(() => undefined);
      throw error;
    }
  }

  list(runId: string): Promise<RunArtifact[]> {
    return this.records.listOfRun(runId);
  }

  get(runId: string, id: string): Promise<RunArtifact | undefined> {
    return this.records.get(runId, id);
  }

  /** The artifact's bytes; from the store it was written to. */
  open(artifact: RunArtifact): Promise<Readable> {
    if (artifact.backend !== this.store.backend) {
      throw new ArtifactStoreError(`artifact ${artifact.id} is in the ${artifact.backend} store; this installation now uses ${this.store.backend}`);
    }
    return this.store.get(artifact.storageKey);
  }

  /** Retention's hook: removes a run's artifacts, objects first and then rows; running it again is harmless. */
  async deleteRunArtifacts(runId: string): Promise<number> {
    const artifacts = await this.records.listOfRun(runId);
    for (const artifact of artifacts) {
      if (artifact.backend === this.store.backend) await this.store.delete(artifact.storageKey);
      await this.records.delete(artifact.id);
    }
    return artifacts.length;
  }

  /** Removes objects without a row that are older than `olderThanMs` (left by a crash between storing and recording). */
  async sweepOrphans(olderThanMs = 24 * 60 * 60_000): Promise<number> {
    const before = Date.now() - olderThanMs;
    let removed = 0;
    let batch: string[] = [];
    const sweep = async () => {
      const known = await this.records.knownKeys(this.store.backend, batch);
      for (const key of batch) {
        if (known.has(key)) continue;
        await this.store.delete(key);
        removed += 1;
      }
      batch = [];
    };
    for await (const object of this.store.list()) {
      if (object.modifiedAt.getTime() >= before || !isArtifactKey(object.key)) continue;
      batch.push(object.key);
      if (batch.length >= 500) await sweep();
    }
    await sweep();
    return removed;
  }
}
