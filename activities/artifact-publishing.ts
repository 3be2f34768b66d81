// How actions publish artifacts: files of a step's working directory, a file
// the action wrote itself, or bytes it holds. The worker stores them (the
// action's process never sees the store's credentials); failures become step
// failures that say what to fix.
import { ApplicationFailure } from '@temporalio/activity';
import { Readable } from 'node:stream';
import { open } from 'node:fs/promises';
import { z } from 'zod';
import { collectArtifactFiles, guessContentType, type ArtifactRequest } from '../artifacts/collect-files.js';
import { ArtifactStoreError } from '../artifacts/artifact-store.js';
import { ArtifactRejectedError, type ArtifactOrigin, type ArtifactSource, type RunArtifact, type RunArtifacts } from '../artifacts/run-artifacts.js';
import type { ActionContext, ActionDependencies } from './action.js';

/** What a step's output says of each artifact it published. */
export const publishedArtifactSchema = z.object({ id: z.string(), name: z.string(), contentType: z.string(), size: z.number(), sha256: z.string() });
export type PublishedArtifact = z.infer<typeof publishedArtifactSchema>;

/** The `artifacts:` argument: paths (or `*` globs in file names) relative to the step's working directory. */
export const artifactRequestsArgument = z
  .array(
    z.union([z.string().min(1).max(1024), z.object({ path: z.string().min(1).max(1024), name: z.string().min(1).max(255).optional(), contentType: z.string().min(3).max(255).optional() }).strict()]),
  )
  .max(100)
  .describe('Files to publish as artifacts once the command exits: paths relative to the working directory (a * or ? in the file name matches several), or {path, name, contentType}');

export function artifactRequestsOf(argument: z.output<typeof artifactRequestsArgument>): ArtifactRequest[] {
  return argument.map((entry) => (typeof entry === 'string' ? { path: entry } : entry));
}

function originOf(context: ActionContext): ArtifactOrigin {
  return { runId: context.step.runId, executionId: context.executionId, environment: context.step.environment, stepId: context.step.stepId, attempt: context.attempt };
}

function shown(artifact: RunArtifact): PublishedArtifact {
  return { id: artifact.id, name: artifact.name, contentType: artifact.contentType, size: artifact.size, sha256: artifact.sha256 };
}

/** Artifact failures as step failures: a broken rule is final, an unreachable store is worth retrying. */
function asStepFailure(error: unknown): unknown {
  if (error instanceof ArtifactRejectedError) return ApplicationFailure.nonRetryable(error.message, 'ArtifactRejected');
  if (error instanceof ArtifactStoreError) return ApplicationFailure.retryable(error.message, 'ArtifactStoreUnavailable');
  return error;
}

function publishing(context: ActionContext) {
  return { signal: context.signal, progress: (bytes: number) => context.heartbeat({ artifactBytes: bytes }) };
}

async function publishAll(artifacts: RunArtifacts, context: ActionContext, sources: ArtifactSource[]): Promise<PublishedArtifact[]> {
  artifacts.checkSizes(sources);
  const published: PublishedArtifact[] = [];
  for (const source of sources) {
    const artifact = await artifacts.publish(originOf(context), source, publishing(context));
    context.log('system', `published artifact ${artifact.name} (${artifact.size} bytes, sha256 ${artifact.sha256})`);
    published.push(shown(artifact));
  }
  return published;
}

/** Publishes the files a step asked for, from its working directory; refuses them all if one breaks a rule. */
export async function publishStepFiles(deps: ActionDependencies, context: ActionContext, workDir: string, requests: ArtifactRequest[]): Promise<PublishedArtifact[]> {
  if (requests.length === 0) return [];
  if (!deps.artifacts) throw ApplicationFailure.nonRetryable('this worker stores no artifacts (it has no database): run the step on an installation worker', 'ArtifactRejected');
  try {
    const files = await collectArtifactFiles(workDir, requests);
    try {
      return await publishAll(
        deps.artifacts,
        context,
        files.map((file) => ({ name: file.name, contentType: file.contentType, size: file.size, open: () => file.handle.createReadStream({ start: 0, autoClose: false }) })),
      );
    } finally {
      await Promise.all(files.map((file) => file.handle.close()));
    }
  } catch (error) {
    throw asStepFailure(error);
  }
}

/**
 * Publishes a file the action itself produced (a dump). Without an artifact
 * store, or over the limits, the step goes on and says so in its log: the
 * file is still where the action put it.
 */
export async function publishOwnFile(deps: ActionDependencies, context: ActionContext, file: string, name: string, contentType = guessContentType(name)): Promise<PublishedArtifact | undefined> {
  if (!deps.artifacts) {
    context.log('system', `not published as an artifact: this worker stores no artifacts`);
    return undefined;
  }
  const handle = await open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    try {
      deps.artifacts.checkSizes([{ name, size }]);
    } catch (error) {
      if (!(error instanceof ArtifactRejectedError)) throw error;
      context.log('system', `not published as an artifact: ${error.message}`);
      return undefined;
    }
    const [published] = await publishAll(deps.artifacts, context, [{ name, contentType, size, open: () => handle.createReadStream({ start: 0, autoClose: false }) }]);
    return published;
  } catch (error) {
    throw asStepFailure(error);
  } finally {
    await handle.close();
  }
}

/** Publishes bytes the action holds (a report it made), when the worker stores artifacts. */
export async function publishBytes(deps: ActionDependencies, context: ActionContext, name: string, contentType: string, bytes: Buffer): Promise<PublishedArtifact | undefined> {
  if (!deps.artifacts) return undefined;
  try {
    const [published] = await publishAll(deps.artifacts, context, [{ name, contentType, size: bytes.length, open: () => Readable.from([bytes]) }]);
    return published;
  } catch (error) {
    throw asStepFailure(error);
  }
}
