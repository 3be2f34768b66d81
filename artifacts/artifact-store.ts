// Where the bytes of run artifacts live. Keys are made by Jarvis from the ids
// it generates (never from a name a step chose): a name is metadata only.
import type { Readable } from 'node:stream';

export type ArtifactBackend = 'local' | 's3';

/** Thrown when a backend refuses or cannot be reached; its message never holds a credential. */
export class ArtifactStoreError extends Error {
  override name = 'ArtifactStoreError';
}

export interface StoredObject {
  key: string;
  modifiedAt: Date;
}

export interface ArtifactStore {
  readonly backend: ArtifactBackend;
  /** Stores the stream under `key`; the object becomes visible only once complete (no half-written object under its key). */
  put(key: string, body: Readable, size: number, contentType: string, signal?: AbortSignal): Promise<void>;
  /** The object's bytes, streamed. */
  get(key: string): Promise<Readable>;
  /** Removes the object; removing one that is gone is not an error. */
  delete(key: string): Promise<void>;
  /** Every object the store holds (for the orphan sweep). */
  list(): AsyncIterable<StoredObject>;
  /** Releases the store's connections. */
  close?(): void;
}

const KEY = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isArtifactKey(key: string): boolean {
  return KEY.test(key);
}

/** Keys are artifact ids (UUIDs): a store refuses anything else, so no path or prefix can be smuggled in. */
export function checkArtifactKey(key: string): string {
  if (!KEY.test(key)) throw new ArtifactStoreError(`not an artifact key: ${JSON.stringify(key.slice(0, 80))}`);
  return key;
}
