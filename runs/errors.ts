import type { ManifestError } from '../manifest/errors.js';
import { formatErrors } from '../manifest/errors.js';

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
