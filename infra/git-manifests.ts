// Manifests kept in Git: a repository (a `git` connection: `config.url`,
// `config.branch`, and a secret `{"token": ..., "webhookSecret": ...}`) whose
// `orch.yaml` lists runbook and stack files. Fetched with the git CLI into the
// data directory; the token goes in an HTTP header (set through the
// environment), never in the URL, the command line or a log.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';

const run = promisify(execFile);

export const orchManifestSchema = z
  .object({
    runbooks: z.array(z.string().min(1)).default([]),
    stacks: z.array(z.string().min(1)).default([]),
  })
  .strict();

export class GitError extends Error {
  override name = 'GitError';
}

export interface GitSource {
  url: string;
  branch: string;
  token?: string;
}

async function git(args: string[], token: string | undefined): Promise<string> {
  // The token travels as configuration in the environment: not in argv, where any local user could read it.
  const auth = token ? { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: `Authorization: Bearer ${token}` } : {};
  try {
    const { stdout } = await run('git', args, { env: { ...process.env, GIT_TERMINAL_PROMPT: '0', ...auth }, maxBuffer: 10 * 1024 * 1024 });
    return stdout.trim();
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? (error as Error).message);
    // git can echo the failing command; the token must not travel on in an error.
    throw new GitError(`git ${args[0]} failed: ${token ? stderr.split(token).join('***') : stderr}`.trim());
  }
}

/** Brings `directory` to the newest commit of the branch; answers that commit. */
export async function fetchRepository(source: GitSource, directory: string): Promise<string> {
  if (existsSync(path.join(directory, '.git'))) {
    await git(['-C', directory, 'fetch', '--depth', '1', 'origin', source.branch], source.token);
    await git(['-C', directory, 'reset', '--hard', 'FETCH_HEAD'], source.token);
  } else {
    await mkdir(path.dirname(directory), { recursive: true });
    await git(['clone', '--depth', '1', '--branch', source.branch, source.url, directory], source.token);
  }
  return git(['-C', directory, 'rev-parse', 'HEAD'], undefined);
}

export interface ListedFile {
  file: string;
  text: string;
}

/** Reads `orch.yaml` and the files it lists (paths stay inside the repository). */
export async function readOrchFiles(directory: string, parseYamlText: (text: string) => unknown): Promise<{ runbooks: ListedFile[]; stacks: ListedFile[] }> {
  const orchFile = path.join(directory, 'orch.yaml');
  if (!existsSync(orchFile)) throw new GitError('the repository has no orch.yaml at its root');
  const parsed = orchManifestSchema.safeParse(parseYamlText(await readFile(orchFile, 'utf8')));
  if (!parsed.success) throw new GitError(`orch.yaml is invalid: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ')}`);
  const read = async (file: string): Promise<ListedFile> => {
    const full = path.resolve(directory, file);
    if (!full.startsWith(path.resolve(directory) + path.sep)) throw new GitError(`orch.yaml lists ${file}, which is outside the repository`);
    if (!existsSync(full)) throw new GitError(`orch.yaml lists ${file}, which does not exist`);
    return { file, text: await readFile(full, 'utf8') };
  };
  return { runbooks: await Promise.all(parsed.data.runbooks.map(read)), stacks: await Promise.all(parsed.data.stacks.map(read)) };
}
