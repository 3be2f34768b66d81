// `version:` in a Compose file, as docker stack deploy reads it: absent means
// the newest 3.x format; 3.0 to 3.13 are accepted and a declared version
// limits the file to the fields that version knows (a field added later is
// refused, with the version that brought it); any other version is refused.
import type { ManifestError } from '../../manifest/errors.js';
import { formatPath } from '../../manifest/errors.js';

const LATEST_MINOR = 13;

/** Fields later than 3.0, with the version that brought them (`*` is any name or index). */
const INTRODUCED: Array<[string, number]> = [
  ['secrets', 1],
  ['services.*.secrets', 1],
  ['networks.*.attachable', 2],
  ['services.*.deploy.endpoint_mode', 2],
  ['services.*.ports.*.mode', 2],
  ['services.*.ports.*.target', 2],
  ['services.*.ports.*.published', 2],
  ['services.*.ports.*.protocol', 2],
  ['services.*.volumes.*.type', 2],
  ['configs', 3],
  ['services.*.configs', 3],
  ['services.*.credential_spec', 3],
  ['services.*.deploy.placement.preferences', 3],
  ['services.*.deploy.update_config.order', 4],
  ['services.*.healthcheck.start_period', 4],
  ['volumes.*.name', 4],
  ['x-*', 4],
  ['configs.*.name', 5],
  ['networks.*.name', 5],
  ['secrets.*.name', 5],
  ['services.*.isolation', 5],
  ['services.*.volumes.*.tmpfs', 6],
  ['services.*.deploy.rollback_config', 7],
  ['services.*.init', 7],
  ['services.*.x-*', 7],
  ['networks.*.x-*', 7],
  ['volumes.*.x-*', 7],
  ['secrets.*.x-*', 7],
  ['configs.*.x-*', 7],
  ['configs.*.template_driver', 8],
  ['secrets.*.template_driver', 8],
  ['secrets.*.driver', 8],
  ['secrets.*.driver_opts', 8],
  ['services.*.deploy.placement.max_replicas_per_node', 8],
  ['services.*.cgroupns_mode', 9],
  ['services.*.deploy.resources.limits.pids', 9],
  ['services.*.healthcheck.start_interval', 12],
  ['services.*.networks.*.driver_opts', 13],
  ['services.*.oom_score_adj', 13],
];

function matches(pattern: string, path: PropertyKey[]): boolean {
  const parts = pattern.split('.');
  if (parts.length !== path.length) return false;
  return parts.every((part, index) => {
    const segment = String(path[index]);
    if (part === 'x-*') return segment.startsWith('x-');
    return part === '*' || part === segment;
  });
}

/** The minor version a file declares (3.x), or an error when Docker would not read that version. */
export function declaredMinor(version: unknown): { minor: number } | { error: string } {
  const text = String(version).trim();
  const match = /^3(?:\.(\d+))?$/.exec(text);
  const minor = match ? Number(match[1] ?? 0) : NaN;
  if (!match || minor > LATEST_MINOR) {
    return {
      error: `unsupported Compose file version ${JSON.stringify(text)}: docker stack deploy reads 3.0 to 3.${LATEST_MINOR} (or no version, the newest); remove the line or write "3.${LATEST_MINOR}"`,
    };
  }
  return { minor };
}

/** Fields of the file newer than the version it declares. */
export function fieldsNewerThan(document: unknown, minor: number): ManifestError[] {
  const errors: ManifestError[] = [];
  const walk = (value: unknown, path: PropertyKey[]) => {
    if (path.length > 0) {
      const found = INTRODUCED.find(([pattern]) => matches(pattern, path));
      if (found && found[1] > minor) {
        errors.push({ path: formatPath(path), message: `needs Compose version 3.${found[1]} or later, and the file says version "3.${minor}": raise version (or remove it for the newest)` });
        return;
      }
    }
    if (Array.isArray(value)) value.forEach((item, index) => walk(item, [...path, index]));
    else if (value !== null && typeof value === 'object') for (const [key, item] of Object.entries(value)) walk(item, [...path, key]);
  };
  walk(document, []);
  return errors;
}
