// Manifests kept in Git: a repository (a `git` connection: `config.url`,
// `config.branch`, and a secret `{"token": ..., "webhookSecret": ...}`) whose
// `orch.yaml` lists runbook and stack files. Fetched with the git CLI into the
// data directory; the token goes in an HTTP header (set through the
// environment), never in the URL, the command line or a log.
//
// The URL and the branch come from an environment admin, and git reads an
// argument starting with "-" as an option (`--upload-pack=<command>` runs a
// command on this host). So a branch must be a name `git check-ref-format
// --branch` accepts, a URL must be https, ssh or scp-like (`user@host:path`;
// local repositories only where configured), every such value follows `--`,
// and git runs with a minimal environment whose GIT_ALLOW_PROTOCOL refuses
// every other transport (`ext::`, plain http) for submodules and redirects too.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { collectReferencedFiles, fileKey, stackNameSchema } from './compose/stack-input.js';

const run = promisify(execFile);

const stackEntry = z
  .union([
    z.string().min(1),
    z
      .object({
        /** The Compose file, relative to the repository's root. */
        file: z.string().min(1),
        /** The stack name; the file's name without extension when not given. */
        name: stackNameSchema.optional(),
        /** `auto`: every sync that changes nothing else deploys it (a deploy-stack run); `manual`: validated only. */
        deploy: z.enum(['auto', 'manual']).default('manual'),
        /** The docker connection (of the repository's environment) an automatic deploy goes to. */
        endpoint: z.string().min(1).optional(),
        variables: z.record(z.string(), z.string()).default({}),
        /** An env file in the repository, for interpolation. */
        envFile: z.string().min(1).optional(),
      })
      .strict()
      .refine((entry) => entry.deploy === 'manual' || entry.endpoint !== undefined, { message: 'deploy: auto needs endpoint (a docker connection)', path: ['endpoint'] }),
  ])
  .transform((entry) => {
    const fields = typeof entry === 'string' ? { file: entry, deploy: 'manual' as const, variables: {} } : entry;
    return {
      ...fields,
      name:
        fields.name ??
        path
          .basename(fields.file)
          .replace(/\.[^.]*$/, '')
          .toLowerCase()
          .replace(/[^a-z0-9_-]/g, '-'),
    };
  });

export const orchManifestSchema = z.object({ runbooks: z.array(z.string().min(1)).default([]), stacks: z.array(stackEntry).default([]) }).strict();

export type OrchStack = z.output<typeof stackEntry>;

/** `invalid`: the connection's settings or the repository's content are wrong; `unavailable`: git could not fetch. */
export class GitError extends Error {
  override name = 'GitError';
  constructor(
    message: string,
    readonly kind: 'invalid' | 'unavailable' = 'invalid',
  ) {
    super(message);
  }
}

export interface GitSource {
  url: string;
  branch: string;
  token?: string;
}

/** How git runs on this host. */
export interface GitRuntime {
  /** Also accept local repositories (file:// URLs and absolute paths): for tests, where local bare repositories stand in for GitHub. */
  allowFileUrls: boolean;
  /** A private directory as git's HOME, so no ~/.gitconfig of the API's user (credential helpers, url rewrites) applies. */
  home: string;
  /** PATH for git and the programs it starts (ssh). */
  searchPath: string;
}

/** The whole environment of a git process: never the API's own, which holds its secret key and database URL. */
export function gitEnvironment(runtime: GitRuntime, token?: string): Record<string, string> {
  // The token travels as configuration in the environment: not in argv, where any local user could read it.
  const auth: Record<string, string> = token ? { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: `Authorization: Bearer ${token}` } : {};
  return { PATH: runtime.searchPath, HOME: runtime.home, GIT_TERMINAL_PROMPT: '0', GIT_ALLOW_PROTOCOL: runtime.allowFileUrls ? 'https:ssh:file' : 'https:ssh', ...auth };
}

async function git(args: string[], runtime: GitRuntime, token: string | undefined): Promise<string> {
  await mkdir(runtime.home, { recursive: true, mode: 0o700 });
  try {
    const { stdout } = await run('git', args, { env: gitEnvironment(runtime, token), cwd: runtime.home, maxBuffer: 10 * 1024 * 1024 });
    return stdout.trim();
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? (error as Error).message);
    // git can echo the failing command; the token must not travel on in an error.
    const command = args[0] === '-C' ? args[2] : args[0];
    throw new GitError(`git ${command} failed: ${token ? stderr.split(token).join('***') : stderr}`.trim(), 'unavailable');
  }
}

const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])$/;
const USER = /^[A-Za-z0-9._~+][A-Za-z0-9._~+-]*$/;
const SCP_LIKE = /^([^@/:]+)@([^@/:]+):(.+)$/;
const URL_RULE = 'use https://host/path, ssh://[user@]host/path or user@host:path';

/** Refuses every URL but https, ssh and scp-like ones (and local repositories where `allowFileUrls`), with a message that says why. */
export function checkGitUrl(url: string, allowFileUrls: boolean): void {
  const refuse = (why: string) => {
    throw new GitError(`config.url ${JSON.stringify(url)} ${why}`);
  };
  const forbidden = `uses a transport Jarvis does not allow (only https and ssh${allowFileUrls ? ', and local repositories here' : ''}); ${URL_RULE}`;
  if (url.length === 0 || url.length > 2_000) refuse('must be 1 to 2000 characters');
  if (url.startsWith('-')) refuse(`must not start with "-"; ${URL_RULE}`);
  // `<helper>::<address>` hands the address to a remote helper; `ext::` runs it as a command.
  if (/^[^/@]*::/.test(url)) refuse(forbidden);
  if (/[\s\x00-\x1f\x7f]/.test(url)) refuse('must not contain spaces or control characters');
  if (allowFileUrls && (path.isAbsolute(url) || url.startsWith('file:///'))) return;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'https' || scheme === 'ssh') {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return refuse(`is not a URL; ${URL_RULE}`);
    }
    if (!HOST.test(parsed.hostname)) refuse('needs a host name (letters, digits, "." and "-", not starting with "-")');
    if (parsed.password) refuse('must not hold a password: put the token in the secret ({"token": ...}), which is sent as a header');
    if (parsed.username && !USER.test(parsed.username)) refuse('has a user name with characters other than letters, digits and "._~+-"');
    return;
  }
  const scp = scheme ? undefined : SCP_LIKE.exec(url);
  if (scp && !url.includes('::')) {
    const [, user = '', host = ''] = scp;
    if (!USER.test(user) || !HOST.test(host)) refuse('is not a valid user@host:path (user and host: letters, digits, ".", "-", not starting with "-")');
    return;
  }
  refuse(forbidden);
}

/** Refuses a branch that git would not accept as a branch name (which includes anything that starts with "-" and so could pass for an option). */
export async function checkGitBranch(branch: string, runtime: GitRuntime): Promise<void> {
  const refuse = () => {
    throw new GitError(`config.branch ${JSON.stringify(branch)} is not a branch name (git check-ref-format --branch refuses it); use a name such as main or release/1.2`);
  };
  // check-ref-format knows no `--`: what could read as an option (or a forced refspec) is refused before git sees it.
  if (branch.length === 0 || branch.length > 255 || branch.startsWith('-') || branch.startsWith('+')) refuse();
  await mkdir(runtime.home, { recursive: true, mode: 0o700 });
  const checked = await run('git', ['check-ref-format', '--branch', branch], { env: gitEnvironment(runtime), cwd: runtime.home }).catch(() => undefined);
  // The name must come back as given: `@{-1}` and the like are expansions, not names.
  if (checked?.stdout.trim() !== branch) refuse();
}

/** A git connection's `config` checked as git will use it: `url` (required) and `branch` (default main). */
export async function checkGitConfig(config: Record<string, unknown>, runtime: GitRuntime): Promise<{ url: string; branch: string }> {
  const { url, branch = 'main' } = config;
  if (typeof url !== 'string' || url === '') throw new GitError('a git connection needs config.url (https://host/path, ssh://host/path or user@host:path)');
  if (typeof branch !== 'string') throw new GitError('config.branch must be a string');
  checkGitUrl(url, runtime.allowFileUrls);
  await checkGitBranch(branch, runtime);
  return { url, branch };
}

/** Brings `directory` to the newest commit of the branch; answers that commit. */
export async function fetchRepository(source: GitSource, directory: string, runtime: GitRuntime): Promise<string> {
  // Checked again here, not only when the connection was saved: rows written before these rules, or by hand, get no pass.
  await checkGitConfig({ url: source.url, branch: source.branch }, runtime);
  if (existsSync(path.join(directory, '.git'))) {
    // The URL as it is configured now (not a remembered `origin`), after `--` like the branch.
    await git(['-C', directory, 'fetch', '--depth', '1', '--', source.url, source.branch], runtime, source.token);
    await git(['-C', directory, 'reset', '--hard', 'FETCH_HEAD'], runtime, source.token);
  } else {
    await mkdir(path.dirname(directory), { recursive: true });
    await git(['clone', '--depth', '1', `--branch=${source.branch}`, '--', source.url, directory], runtime, source.token);
  }
  return git(['-C', directory, 'rev-parse', 'HEAD'], runtime, undefined);
}

export interface ListedFile {
  file: string;
  text: string;
}

/** A stack orch.yaml lists: its Compose file and the files it names (relative to it), read from the repository. */
export interface ListedStack extends ListedFile {
  entry: OrchStack;
  files: Record<string, string>;
  envFile?: string;
}

/** Reads `orch.yaml` and the files it lists (paths, after symbolic links, stay inside the repository). */
export async function readOrchFiles(directory: string, parseYamlText: (text: string) => unknown): Promise<{ runbooks: ListedFile[]; stacks: ListedStack[] }> {
  const root = await realpath(directory);
  // A symbolic link in the repository could point at the API's own files (its secret key); its target must be inside too.
  const inside = async (file: string): Promise<string> => {
    const full = path.resolve(root, file);
    if (!full.startsWith(root + path.sep)) throw new GitError(`orch.yaml lists ${file}, which is outside the repository`);
    if (!existsSync(full)) throw new GitError(`orch.yaml lists ${file}, which does not exist`);
    const target = await realpath(full);
    if (!target.startsWith(root + path.sep)) throw new GitError(`${file} is a link that leads outside the repository`);
    if (target.startsWith(path.join(root, '.git') + path.sep)) throw new GitError(`${file} is inside .git, not a file of the repository`);
    return target;
  };
  if (!existsSync(path.join(root, 'orch.yaml'))) throw new GitError('the repository has no orch.yaml at its root');
  const parsed = orchManifestSchema.safeParse(parseYamlText(await readFile(await inside('orch.yaml'), 'utf8')));
  if (!parsed.success) throw new GitError(`orch.yaml is invalid: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ')}`);
  const read = async (file: string): Promise<ListedFile> => ({ file, text: await readFile(await inside(file), 'utf8') });
  const readStack = async (entry: OrchStack): Promise<ListedStack> => {
    const compose = await read(entry.file);
    const envFile = entry.envFile ? (await read(entry.envFile)).text : undefined;
    const files = await collectReferencedFiles(compose.text, entry.variables, async (name) => {
      const relative = path.posix.join(path.posix.dirname(entry.file), fileKey(name));
      return existsSync(path.resolve(root, relative)) ? (await read(relative)).text : undefined;
    });
    return { ...compose, entry, files, ...(envFile !== undefined ? { envFile } : {}) };
  };
  return { runbooks: await Promise.all(parsed.data.runbooks.map(read)), stacks: await Promise.all(parsed.data.stacks.map(readStack)) };
}
