import path from 'node:path';
import { DEFAULT_ARTIFACT_LIMITS, type ArtifactSettings } from './artifact-settings.js';
import { RunArtifacts } from './run-artifacts.js';
import type { ArtifactStore } from './artifact-store.js';
import { LocalArtifactStore } from './local-artifact-store.js';
import { S3ArtifactStore } from './s3-artifact-store.js';

/** The installation's artifact store, as configured (local disk by default). */
export function openArtifactStore(settings: ArtifactSettings): ArtifactStore {
  return settings.backend === 'local' ? new LocalArtifactStore(settings.directory) : new S3ArtifactStore(settings.s3);
}

/** The installation's artifacts: the configured store, with the run_artifacts table of `pool`. */
export function openRunArtifacts(pool: ConstructorParameters<typeof RunArtifacts>[0], settings: ArtifactSettings): RunArtifacts {
  return new RunArtifacts(pool, openArtifactStore(settings), settings.limits);
}

/** Without configuration: the local disk under the data directory, with the default limits. */
export function defaultArtifactSettings(dataDir: string): ArtifactSettings {
  return { backend: 'local', directory: path.join(dataDir, 'artifacts'), limits: DEFAULT_ARTIFACT_LIMITS };
}
