// Which files a step asked to publish, found in its working directory after
// its command exited. A path is relative to that directory and stays in it:
// `..`, absolute paths and symlinks resolving outside are refused, and a file
// is opened without following a final symlink, then checked again by what the
// kernel says the open file is.
import { constants } from 'node:fs';
import { open, readdir, readlink, realpath, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { ArtifactRejectedError, checkArtifactName, checkContentType } from './run-artifacts.js';

export interface ArtifactRequest {
  path: string;
  name?: string;
  contentType?: string;
}

export interface CollectedFile {
  name: string;
  contentType: string;
  size: number;
  handle: FileHandle;
}

const CONTENT_TYPES: Record<string, string> = {
  '.txt': 'text/plain; charset=utf-8',
  '.log': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.json': 'application/json',
  '.yaml': 'application/yaml',
  '.yml': 'application/yaml',
  '.xml': 'application/xml',
  '.html': 'text/html; charset=utf-8',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.tgz': 'application/gzip',
  '.tar': 'application/x-tar',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

export function guessContentType(name: string): string {
  return CONTENT_TYPES[path.extname(name).toLowerCase()] ?? 'application/octet-stream';
}

const GLOB = /[*?]/;

function globPattern(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${escaped}$`);
}

function isInside(root: string, candidate: string): boolean {
  return candidate.startsWith(root + path.sep);
}

/** `request.path` as a path inside the working directory, or a refusal that says why. */
function relativePathOf(request: ArtifactRequest): string {
  if (path.isAbsolute(request.path)) throw new ArtifactRejectedError(`artifact path ${request.path} must be relative to the step's working directory`);
  const normalized = path.normalize(request.path);
  if (normalized === '..' || normalized.startsWith(`..${path.sep}`) || normalized === '.') {
    throw new ArtifactRejectedError(`artifact path ${request.path} is outside the step's working directory`);
  }
  if (GLOB.test(path.dirname(normalized))) throw new ArtifactRejectedError(`artifact path ${request.path}: only its file name may hold * or ?`);
  return normalized;
}

async function candidatesOf(root: string, relative: string): Promise<string[]> {
  if (!GLOB.test(relative)) return [relative];
  const folder = path.dirname(relative);
  const pattern = globPattern(path.basename(relative));
  const entries = await readdir(path.join(root, folder)).catch(() => [] as string[]);
  return entries
    .filter((entry) => pattern.test(entry))
    .sort()
    .map((entry) => path.join(folder, entry));
}

/** Opens one file of the working directory, or refuses it (outside, a symlink out, not a regular file). */
async function openInside(root: string, relative: string, shownAs: string): Promise<{ handle: FileHandle; size: number }> {
  let real: string;
  try {
    real = await realpath(path.join(root, relative));
  } catch {
    throw new ArtifactRejectedError(`artifact ${shownAs} was not found in the step's working directory`);
  }
  if (!isInside(root, real)) throw new ArtifactRejectedError(`artifact ${shownAs} resolves outside the step's working directory (a symlink?): refused`);
  const handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch((error: NodeJS.ErrnoException) => {
    throw new ArtifactRejectedError(`artifact ${shownAs} could not be opened: ${error.code === 'ELOOP' ? 'it became a symlink' : error.code}`);
  });
  try {
    // What was opened, as the kernel names it: a folder swapped for a symlink meanwhile shows here.
    const opened = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => real);
    if (!isInside(root, opened)) throw new ArtifactRejectedError(`artifact ${shownAs} resolves outside the step's working directory: refused`);
    const stats = await handle.stat();
    if (!stats.isFile()) throw new ArtifactRejectedError(`artifact ${shownAs} is not a regular file`);
    return { handle, size: stats.size };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** Finds and opens the requested files; the caller closes their handles. */
export async function collectArtifactFiles(workDir: string, requests: ArtifactRequest[]): Promise<CollectedFile[]> {
  const root = await realpath(workDir);
  const collected: CollectedFile[] = [];
  try {
    for (const request of requests) {
      const relative = relativePathOf(request);
      const candidates = await candidatesOf(root, relative);
      if (candidates.length === 0) throw new ArtifactRejectedError(`artifact path ${request.path} matched no file in the step's working directory`);
      if (request.name !== undefined && candidates.length > 1) throw new ArtifactRejectedError(`artifact path ${request.path} matched ${candidates.length} files: a name is for one file`);
      for (const candidate of candidates) {
        const name = checkArtifactName(request.name ?? candidate);
        if (collected.some((file) => file.name === name)) throw new ArtifactRejectedError(`two artifacts of the step are named ${name}`);
        const contentType = checkContentType(request.contentType ?? guessContentType(name));
        collected.push({ name, contentType, ...(await openInside(root, candidate, candidate)) });
      }
    }
    return collected;
  } catch (error) {
    await Promise.all(collected.map((file) => file.handle.close()));
    throw error;
  }
}
