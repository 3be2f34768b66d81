// The runbook catalog: every manifest in a folder, by name.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ActionCatalog } from './action-catalog.js';
import type { ManifestError } from './errors.js';
import { loadManifest, parseYaml, type LoadResult } from './loader.js';
import { manifestEnvelopeSchema } from './schema.js';

export interface CatalogEntry {
  name: string;
  file: string;
  title: string;
  description: string;
  category: string;
  tags: string[];
  errors: ManifestError[];
}

interface Source {
  file: string;
  value: unknown;
}

function field(value: unknown, key: string): unknown {
  return value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
}

/** The runbooks a manifest starts as children, wherever the step sits (parallel groups, compensations). */
function childRunbooks(value: unknown): string[] {
  const names: string[] = [];
  const walk = (steps: unknown) => {
    if (!Array.isArray(steps)) return;
    for (const step of steps) {
      const child = field(step, 'runbook');
      if (typeof child === 'string') names.push(child);
      walk(field(step, 'parallel'));
      walk(field(step, 'compensate'));
    }
  };
  walk(field(value, 'steps'));
  return names;
}

/** The environments a manifest lists (the schema's default when it lists none; none when the list is malformed, as it cannot run). */
export function listedEnvironments(value: unknown): string[] {
  const listed = manifestEnvelopeSchema.shape.environments.safeParse(field(value, 'environments'));
  return listed.success ? listed.data : [];
}

export class RunbookCatalog {
  private constructor(
    private readonly sources: Map<string, Source>,
    private readonly unreadable: CatalogEntry[],
    private readonly actions: ActionCatalog,
  ) {}

  /** The runbooks of a folder, compiled against `actions`. */
  static async fromDirectory(directory: string, actions: ActionCatalog): Promise<RunbookCatalog> {
    const files = (await readdir(directory).catch(() => [] as string[])).filter((name) => /\.ya?ml$/.test(name)).sort();
    const sources = new Map<string, Source>();
    const unreadable: CatalogEntry[] = [];
    for (const name of files) {
      const file = path.join(directory, name);
      const parsed = parseYaml(await readFile(file, 'utf8'));
      const runbookName = field(parsed.value, 'name');
      if (parsed.errors.length > 0 || typeof runbookName !== 'string') {
        const errors = parsed.errors.length > 0 ? parsed.errors : [{ path: 'name', message: 'required' }];
        unreadable.push({ name: path.basename(name).replace(/\.ya?ml$/, ''), file, title: '', description: '', category: '', tags: [], errors });
        continue;
      }
      sources.set(runbookName, { file, value: parsed.value });
    }
    return new RunbookCatalog(sources, unreadable, actions);
  }

  private readonly lookupRunbook = (name: string): unknown => this.sources.get(name)?.value;

  /** Adds or replaces a runbook from elsewhere than the folder (an imported catalog version). */
  register(name: string, value: unknown, origin: string): void {
    this.sources.set(name, { file: origin, value });
  }

  /** The raw manifest of a runbook in the catalog, valid or not. */
  source(name: string): unknown {
    return this.sources.get(name)?.value;
  }

  /**
   * Where a change to runbook `name` takes effect: the environments of every
   * runbook that starts it as a child, directly or further up (children are
   * compiled into their parents, so a new child version runs wherever they
   * run). Read from the raw manifests, so a parent that is invalid only for
   * want of this child counts too.
   */
  environmentsOfStarters(name: string): string[] {
    const startersOf = new Map<string, string[]>();
    for (const [parent, source] of this.sources) {
      for (const child of childRunbooks(source.value)) startersOf.set(child, [...(startersOf.get(child) ?? []), parent]);
    }
    const seen = new Set<string>([name]);
    const queue = [name];
    const environments = new Set<string>();
    for (let current = queue.shift(); current !== undefined; current = queue.shift()) {
      for (const parent of startersOf.get(current) ?? []) {
        if (seen.has(parent)) continue;
        seen.add(parent);
        queue.push(parent);
        for (const environment of listedEnvironments(this.sources.get(parent)?.value)) environments.add(environment);
      }
    }
    return [...environments];
  }

  has(name: string): boolean {
    return this.sources.has(name);
  }

  compile(name: string): LoadResult | undefined {
    const source = this.sources.get(name);
    return source ? loadManifest(source.value, this.actions, { lookupRunbook: this.lookupRunbook }) : undefined;
  }

  /** Compiles a manifest that is not in the catalog; its `runbook` steps may still use catalog runbooks. */
  compileValue(value: unknown): LoadResult {
    return loadManifest(value, this.actions, { lookupRunbook: this.lookupRunbook });
  }

  list(): CatalogEntry[] {
    const entries = [...this.sources.entries()].map(([name, source]): CatalogEntry => {
      const result = this.compile(name);
      const value = source.value;
      return {
        name,
        file: source.file,
        title: String(field(value, 'title') ?? ''),
        description: String(field(value, 'description') ?? ''),
        category: String(field(value, 'category') ?? 'general'),
        tags: Array.isArray(field(value, 'tags')) ? (field(value, 'tags') as string[]) : [],
        errors: result && !result.ok ? result.errors : [],
      };
    });
    return [...entries, ...this.unreadable].sort((a, b) => a.name.localeCompare(b.name));
  }
}
