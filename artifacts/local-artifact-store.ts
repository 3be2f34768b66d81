// Artifacts on the local disk, under <data dir>/artifacts: each object is
// written to a partial file and renamed into place once complete, so a crash
// never leaves a half-written object under its key. A worker running as root
// gives what it writes to the owner of the artifacts folder (the API's user).
import { createReadStream, createWriteStream } from 'node:fs';
import { chown, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ArtifactStoreError, checkArtifactKey, type ArtifactStore, type StoredObject } from './artifact-store.js';

const PARTIAL = '.partial';

export class LocalArtifactStore implements ArtifactStore {
  readonly backend = 'local' as const;

  constructor(private readonly directory: string) {}

  private pathOf(key: string): string {
    checkArtifactKey(key);
    return path.join(this.directory, 'objects', key.slice(0, 2), key);
  }

  async put(key: string, body: Readable, size: number, _contentType: string, signal?: AbortSignal): Promise<void> {
    const file = this.pathOf(key);
    const partial = `${file}${PARTIAL}`;
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    try {
      await pipeline(body, createWriteStream(partial, { flags: 'wx', mode: 0o600 }), ...(signal ? [{ signal }] : []));
      const written = (await stat(partial)).size;
      if (written !== size) throw new ArtifactStoreError(`stored ${written} bytes of an artifact of ${size}`);
      await this.giveToOwner([path.join(this.directory, 'objects'), path.dirname(file), partial]);
      await rename(partial, file);
    } finally {
      await rm(partial, { force: true });
    }
  }

  /** As root, hands what the store made to the owner of its folder, so the API (another user) reads it. */
  private async giveToOwner(paths: string[]): Promise<void> {
    if (process.getuid?.() !== 0) return;
    const owner = await stat(this.directory);
    if (owner.uid === 0) return;
    for (const entry of paths) await chown(entry, owner.uid, owner.gid);
  }

  async get(key: string): Promise<Readable> {
    const file = this.pathOf(key);
    // Opened before answering, so a missing object is an error here rather than a broken download.
    await stat(file).catch(() => {
      throw new ArtifactStoreError(`artifact object ${key} is missing from ${this.directory}`);
    });
    return createReadStream(file);
  }

  async delete(key: string): Promise<void> {
    const file = this.pathOf(key);
    await rm(file, { force: true });
    await rm(`${file}${PARTIAL}`, { force: true });
  }

  async *list(): AsyncIterable<StoredObject> {
    const objects = path.join(this.directory, 'objects');
    const shards = await readdir(objects).catch(() => [] as string[]);
    for (const shard of shards) {
      for (const name of await readdir(path.join(objects, shard)).catch(() => [] as string[])) {
        const modifiedAt = (await stat(path.join(objects, shard, name)).catch(() => undefined))?.mtime;
        if (!modifiedAt) continue;
        // A partial file left by a crash is listed under its key: the sweep removes it like any orphan.
        yield { key: name.endsWith(PARTIAL) ? name.slice(0, -PARTIAL.length) : name, modifiedAt };
      }
    }
  }
}
