// Imported runbooks: every accepted manifest is recorded as a catalog version
// (source, content hash, who imported it); the newest import of a name is the
// active one. A manifest with mistakes is refused and the previous version
// stays active.
import type { Database } from '../../db/database.js';
import type { RunbookCatalog } from '../../manifest/catalog.js';
import { parseYaml } from '../../manifest/loader.js';
import { JarvisProblem } from '../../runs/errors.js';

export interface RunbookVersionView {
  name: string;
  version: string;
  source: string;
  active: boolean;
  importedAt: string;
}

export class RunbookVersionService {
  constructor(
    private readonly db: Database,
    private readonly catalog: RunbookCatalog,
  ) {}

  /** Puts the active imported versions into the catalog (at start). */
  async loadActive(): Promise<number> {
    const active = await this.db.runbookVersion.findMany({ where: { active: true } });
    for (const version of active) this.catalog.register(version.name, version.manifest, `import:${version.version}`);
    return active.length;
  }

  async importManifest(text: string, importedById: string | null, source = 'api'): Promise<RunbookVersionView> {
    const parsed = parseYaml(text);
    if (parsed.errors.length > 0) throw new JarvisProblem('the manifest is not valid YAML:', 'invalid', parsed.errors);
    const result = this.catalog.compileValue(parsed.value);
    if (!result.ok) throw new JarvisProblem('the manifest has mistakes; the active version is unchanged:', 'invalid', result.errors);
    const { name, version } = result.compiled.runbook;
    const stored = await this.db.$transaction(async (transaction) => {
      await transaction.runbookVersion.updateMany({ where: { name, active: true, NOT: { version } }, data: { active: false } });
      return transaction.runbookVersion.upsert({
        where: { name_version: { name, version } },
        create: { name, version, source, manifest: parsed.value as object, importedById, active: true },
        update: { active: true },
      });
    });
    this.catalog.register(name, parsed.value, `import:${version}`);
    return { name, version, source: stored.source, active: stored.active, importedAt: stored.createdAt.toISOString() };
  }

  async versions(name: string): Promise<RunbookVersionView[]> {
    const rows = await this.db.runbookVersion.findMany({ where: { name }, orderBy: { createdAt: 'desc' } });
    return rows.map((row) => ({ name: row.name, version: row.version, source: row.source, active: row.active, importedAt: row.createdAt.toISOString() }));
  }
}
