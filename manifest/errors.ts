import type { z } from 'zod';

export interface ManifestError {
  /** Where the mistake is, e.g. `steps[2].with.host`. */
  path: string;
  message: string;
}

export function formatPath(segments: ReadonlyArray<PropertyKey>): string {
  let text = '';
  for (const segment of segments) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text ? `.${String(segment)}` : String(segment);
  }
  return text;
}

export function joinPath(base: string, ...segments: PropertyKey[]): string {
  const rest = formatPath(segments);
  if (!base) return rest;
  if (!rest) return base;
  return rest.startsWith('[') ? `${base}${rest}` : `${base}.${rest}`;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) return 'required';
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')}`;
  return issue.message;
}

export function zodIssuesToErrors(base: string, issues: readonly z.core.$ZodIssue[]): ManifestError[] {
  return issues.map((issue) => ({ path: joinPath(base, ...issue.path) || '(root)', message: describeIssue(issue) }));
}

export function formatErrors(errors: readonly ManifestError[]): string {
  return errors.map((error) => `${error.path}: ${error.message}`).join('\n');
}

/** `unavailable`: a system Jarvis relies on (a Docker engine, a provider) could not be reached. */
export type ProblemKind = 'invalid' | 'conflict' | 'not-found' | 'forbidden' | 'unavailable';

/** An error the user can fix; its message says how. Mapped to 4xx by the API and to exit codes by the CLI. */
export class JarvisProblem extends Error {
  override name = 'JarvisProblem';
  constructor(
    message: string,
    readonly kind: ProblemKind,
    readonly errors: ManifestError[] = [],
  ) {
    super(errors.length > 0 ? `${message}\n${formatErrors(errors)}` : message);
  }
}
