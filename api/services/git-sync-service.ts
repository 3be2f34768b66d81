// Syncs the runbooks of a Git repository (a `git` connection) into the
// catalog: fetch, read orch.yaml, validate every runbook and stack it lists,
// and only when all are right record each runbook as a catalog version. A
// commit with a mistake changes nothing and says where the mistake is.
import path from 'node:path';
import { parse as parseYamlText } from 'yaml';
import { fetchRepository, GitError, readOrchFiles } from '../../infra/git-manifests.js';
import { stackManifestSchema } from '../../infra/swarm-stack.js';
import type { RunbookCatalog } from '../../manifest/catalog.js';
import type { ManifestError } from '../../manifest/errors.js';
import { zodIssuesToErrors } from '../../manifest/errors.js';
import { parseYaml } from '../../manifest/loader.js';
import { JarvisProblem } from '../../runs/errors.js';
import type { ConnectionService } from './connection-service.js';
import type { RunbookVersionService } from './runbook-version-service.js';

export interface GitSyncResult {
  commit: string;
  imported: Array<{ name: string; version: string }>;
  stacks: string[];
}

interface GitSecret {
  token?: string;
  webhookSecret?: string;
}

export class GitSyncService {
  constructor(
    private readonly connections: ConnectionService,
    private readonly versions: RunbookVersionService,
    private readonly catalog: RunbookCatalog,
    private readonly dataDir: string,
  ) {}

  private async gitConnection(environment: string, name: string) {
    const connection = await this.connections.resolve(environment, name);
    if (connection.type !== 'git') throw new JarvisProblem(`connection "${name}" is of type ${connection.type}, not git`, 'invalid');
    const { url, branch } = connection.config as { url?: unknown; branch?: unknown };
    if (typeof url !== 'string' || !url) throw new JarvisProblem(`connection "${name}" needs config.url`, 'invalid');
    let secret: GitSecret = {};
    if (connection.secret) {
      try {
        secret = JSON.parse(connection.secret) as GitSecret;
      } catch {
        throw new JarvisProblem(`the secret of connection "${name}" must be JSON: {"token": ..., "webhookSecret": ...}`, 'invalid');
      }
    }
    return { id: connection.id, url, branch: typeof branch === 'string' && branch ? branch : 'main', secret };
  }

  /** The secret a push webhook of this connection is signed with, if it has one. */
  async webhookSecret(environment: string, name: string): Promise<string | undefined> {
    return (await this.gitConnection(environment, name)).secret.webhookSecret;
  }

  async sync(environment: string, name: string, importedById: string | null): Promise<GitSyncResult> {
    const source = await this.gitConnection(environment, name);
    const directory = path.join(this.dataDir, 'git', source.id);
    let commit: string;
    let files: Awaited<ReturnType<typeof readOrchFiles>>;
    try {
      commit = await fetchRepository({ url: source.url, branch: source.branch, ...(source.secret.token ? { token: source.secret.token } : {}) }, directory);
      files = await readOrchFiles(directory, (text) => parseYamlText(text) as unknown);
    } catch (error) {
      if (error instanceof GitError) throw new JarvisProblem(error.message, error.message.startsWith('git ') ? 'unavailable' : 'invalid');
      throw error;
    }
    const errors: ManifestError[] = [];
    const within = (file: string, found: ManifestError[]) => errors.push(...found.map((entry) => ({ path: `${file}: ${entry.path}`, message: entry.message })));
    for (const runbook of files.runbooks) {
      const parsed = parseYaml(runbook.text);
      if (parsed.errors.length > 0) {
        within(runbook.file, parsed.errors);
        continue;
      }
      const compiled = this.catalog.compileValue(parsed.value);
      if (!compiled.ok) within(runbook.file, compiled.errors);
    }
    const stacks: string[] = [];
    for (const stack of files.stacks) {
      const parsed = parseYaml(stack.text);
      if (parsed.errors.length > 0) {
        within(stack.file, parsed.errors);
        continue;
      }
      const checked = stackManifestSchema.safeParse(parsed.value);
      if (checked.success) stacks.push(checked.data.name);
      else within(stack.file, zodIssuesToErrors('', checked.error.issues));
    }
    if (errors.length > 0) throw new JarvisProblem(`commit ${commit.slice(0, 12)} of ${name} has mistakes; the active versions are unchanged:`, 'invalid', errors);
    const imported = [];
    for (const runbook of files.runbooks) {
      const view = await this.versions.importManifest(runbook.text, importedById, `git:${name}@${commit.slice(0, 12)}`);
      imported.push({ name: view.name, version: view.version });
    }
    return { commit, imported, stacks };
  }
}
