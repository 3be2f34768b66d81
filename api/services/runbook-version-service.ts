// Imported runbooks: every accepted manifest is recorded as a catalog version
// (source, content hash, who imported it); the newest import of a name is the
// active one. A manifest with mistakes is refused and the previous version
// stays active.
//
// An import changes what runs wherever the runbook runs: the environments the
// new version lists, those the version it replaces lists, and those of every
// runbook that starts it as a child. The importer must be allowed to change
// runbooks in all of them (an admin in dev may not replace what prod runs).
import type { Database } from '../../db/database.js';
import { listedEnvironments, type RunbookCatalog } from '../../manifest/catalog.js';
import { parseYaml } from '../../manifest/loader.js';
import { JarvisProblem } from '../../manifest/errors.js';

export interface RunbookVersionView {
  name: string;
  version: string;
  source: string;
  active: boolean;
  importedAt: string;
}

/** Who imports, and where they may change runbooks. */
export interface ImportScope {
  /** Environments where this importer may change what runs: where a user is admin; a git connection's own. */
  environments: readonly string[];
  /** How a refusal names the importer: "you", "git connection ops-repo of dev". */
  importer: string;
  /** The rule, for the refusal: "that needs the admin role in each". */
  rule: string;
}

/** A manifest that compiled, with every environment importing it would change. */
export interface PreparedImport {
  name: string;
  version: string;
  value: unknown;
  reaches: string[];
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

  /** Parses and compiles a manifest and works out where importing it takes effect; refuses one with mistakes. */
  prepare(text: string): PreparedImport {
    const parsed = parseYaml(text);
    if (parsed.errors.length > 0) throw new JarvisProblem('the manifest is not valid YAML:', 'invalid', parsed.errors);
    const result = this.catalog.compileValue(parsed.value);
    if (!result.ok) throw new JarvisProblem('the manifest has mistakes; the active version is unchanged:', 'invalid', result.errors);
    const { name, version, environments } = result.compiled.runbook;
    const current = this.catalog.source(name);
    const reaches = new Set([...environments, ...(current === undefined ? [] : listedEnvironments(current)), ...this.catalog.environmentsOfStarters(name)]);
    return { name, version, value: parsed.value, reaches: [...reaches].sort() };
  }

  /** Why this importer may not import this manifest, or undefined when they may. */
  refusal(prepared: PreparedImport, scope: ImportScope): string | undefined {
    const outside = prepared.reaches.filter((environment) => !scope.environments.includes(environment));
    if (outside.length === 0) return undefined;
    const replaces = this.catalog.has(prepared.name) ? `replacing runbook "${prepared.name}"` : `importing runbook "${prepared.name}"`;
    return `${replaces} changes what runs in ${prepared.reaches.join(', ')}; ${scope.importer} may not change runbooks in ${outside.join(', ')} (${scope.rule})`;
  }

  /** Imports a prepared manifest as the active version of its runbook, if `scope` covers every environment it reaches (else 403). */
  async importManifest(prepared: PreparedImport, importedById: string | null, scope: ImportScope, source = 'api'): Promise<RunbookVersionView> {
    const refused = this.refusal(prepared, scope);
    if (refused) throw new JarvisProblem(refused, 'forbidden');
    const { name, version, value } = prepared;
    const stored = await this.db.$transaction(async (transaction) => {
      // The stored active version too, locked: another API process (or a concurrent import) may have replaced what this catalog knows.
      const active = await transaction.$queryRaw<Array<{ manifest: unknown }>>`SELECT manifest FROM runbook_versions WHERE name = ${name} AND active FOR UPDATE`;
      const reaches = [...new Set([...prepared.reaches, ...active.flatMap((row) => listedEnvironments(row.manifest))])].sort();
      const refusedNow = this.refusal({ ...prepared, reaches }, scope);
      if (refusedNow) throw new JarvisProblem(refusedNow, 'forbidden');
      await transaction.runbookVersion.updateMany({ where: { name, active: true, NOT: { version } }, data: { active: false } });
      return transaction.runbookVersion.upsert({
        where: { name_version: { name, version } },
        create: { name, version, source, manifest: value as object, importedById, active: true },
        update: { active: true },
      });
    });
    this.catalog.register(name, value, `import:${version}`);
    return { name, version, source: stored.source, active: stored.active, importedAt: stored.createdAt.toISOString() };
  }

  async versions(name: string): Promise<RunbookVersionView[]> {
    const rows = await this.db.runbookVersion.findMany({ where: { name }, orderBy: { createdAt: 'desc' } });
    return rows.map((row) => ({ name: row.name, version: row.version, source: row.source, active: row.active, importedAt: row.createdAt.toISOString() }));
  }
}
