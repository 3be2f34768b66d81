// The runbook catalog: every manifest in a folder, by name.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ManifestError } from './errors.js';
import { loadManifest, parseYaml, type LoadResult } from './loader.js';

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

export class RunbookCatalog {
  private constructor(
    private readonly sources: Map<string, Source>,
    private readonly unreadable: CatalogEntry[],
  ) {}

  static async fromDirectory(directory: string): Promise<RunbookCatalog> {
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
    return new RunbookCatalog(sources, unreadable);
  }

  private readonly lookupRunbook = (name: string): unknown => this.sources.get(name)?.value;

  /** Adds or replaces a runbook from elsewhere than the folder (an imported catalog version). */
  register(name: string, value: unknown, origin: string): void {
    this.sources.set(name, { file: origin, value });
  }

  has(name: string): boolean {
    return this.sources.has(name);
  }

  compile(name: string): LoadResult | undefined {
    const source = this.sources.get(name);
    return source ? loadManifest(source.value, { lookupRunbook: this.lookupRunbook }) : undefined;
  }

  /** Compiles a manifest that is not in the catalog; its `runbook` steps may still use catalog runbooks. */
  compileValue(value: unknown): LoadResult {
    return loadManifest(value, { lookupRunbook: this.lookupRunbook });
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
