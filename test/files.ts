import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A folder of manifests, as a catalog. */
export function writeManifests(manifests: Record<string, string>): string {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'jarvis-runbooks-'));
  for (const [name, text] of Object.entries(manifests)) writeFileSync(path.join(directory, `${name}.yaml`), text);
  return directory;
}

/** A scratch folder for side-effect counters and flag files. */
export function scratchDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'jarvis-test-'));
}
