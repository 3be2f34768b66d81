// How an installation stores run artifacts, as config/env.ts parses it.

/** What one step may publish. */
export interface ArtifactLimits {
  maxFileBytes: number;
  maxStepBytes: number;
}

export interface S3Settings {
  /** An S3-compatible server; AWS S3 itself when absent. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Prepended to every object key (empty, or folders ending with /). */
  prefix: string;
  accessKeyId: string;
  /** Never logged, never part of an error. */
  secretAccessKey: string;
  forcePathStyle: boolean;
}

export type ArtifactSettings = { backend: 'local'; directory: string; limits: ArtifactLimits } | { backend: 's3'; s3: S3Settings; limits: ArtifactLimits };

export const DEFAULT_ARTIFACT_LIMITS: ArtifactLimits = { maxFileBytes: 1024 ** 3, maxStepBytes: 2 * 1024 ** 3 };
