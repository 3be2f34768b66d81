// What a stack deploy or validation is given, the same through the API, a
// deploy-stack run and the CLI: the Compose text, the stack name, variables,
// an env file and the files the Compose file names. Also finds which files a
// Compose file names, so the CLI (and Git sync) can send them along.
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { interpolateCompose } from './interpolate.js';
import type { ComposeSource } from './stack-plan.js';

const MAX_FILE_BYTES = 512 * 1024;

export const stackNameSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'a stack name has lower-case letters, digits, - and _ (at most 40), starting with a letter or digit');

export const stackInputSchema = z
  .object({
    /** The Compose file (YAML text). */
    stack: z.string().min(1, 'the Compose file is empty').max(MAX_FILE_BYTES, 'the Compose file is larger than 512 KiB'),
    name: stackNameSchema,
    variables: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a variable name'), z.string()).default({}),
    envFile: z.string().max(MAX_FILE_BYTES).optional(),
    files: z.record(z.string().min(1), z.string().max(MAX_FILE_BYTES)).default({}),
    /** Where relative bind sources are resolved, as Docker resolves them against the deploying shell's directory ("" for none). */
    workingDir: z.union([z.literal(''), z.string().startsWith('/', 'an absolute directory')]).optional(),
  })
  .strict();

export type StackInput = z.output<typeof stackInputSchema>;

export function composeSource(input: StackInput): ComposeSource {
  return {
    text: input.stack,
    stack: input.name,
    variables: input.variables,
    files: input.files,
    ...(input.envFile !== undefined ? { envFile: input.envFile } : {}),
    ...(input.workingDir ? { workingDir: input.workingDir } : {}),
  };
}

/**
 * The files a Compose file reads (env_file of services, `file:` of secrets and configs), as
 * written (after interpolation with the variables given). Unreadable YAML names none: the
 * validation says what is wrong with it.
 */
export function referencedFiles(text: string, variables: Record<string, string> = {}): string[] {
  let raw: unknown;
  try {
    raw = parseYaml(text, { merge: true });
  } catch {
    return [];
  }
  const document = interpolateCompose(raw, (name) => variables[name], []) as Record<string, unknown> | null;
  if (!document || typeof document !== 'object') return [];
  const names = new Set<string>();
  const add = (value: unknown) => {
    if (typeof value === 'string' && value !== '') names.add(value);
  };
  for (const service of Object.values((document.services ?? {}) as Record<string, unknown>)) {
    const envFile = (service as { env_file?: unknown } | null)?.env_file;
    if (Array.isArray(envFile)) envFile.forEach(add);
    else add(envFile);
  }
  for (const kind of ['secrets', 'configs']) {
    for (const object of Object.values((document[kind] ?? {}) as Record<string, unknown>)) add((object as { file?: unknown } | null)?.file);
  }
  return [...names];
}

/**
 * The files a Compose file names, as `files` takes them: each read by `read` (given the name as
 * written, relative to the Compose file); one `read` has no answer for is left out, and the
 * validation says it is missing.
 */
export async function collectReferencedFiles(
  text: string,
  variables: Record<string, string>,
  read: (name: string) => Promise<string | undefined> | string | undefined,
): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const name of referencedFiles(text, variables)) {
    const content = await read(name);
    if (content !== undefined) files[fileKey(name)] = content;
  }
  return files;
}

/** A referenced file's key in `files`: its path relative to the Compose file, normalised. */
export function fileKey(name: string): string {
  return path.posix.normalize(name.replace(/\\/g, '/')).replace(/^(\.\/)+/, '');
}
