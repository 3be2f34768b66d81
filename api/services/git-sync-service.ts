// Syncs the runbooks of a Git repository (a `git` connection) into the
// catalog: fetch, read orch.yaml, validate every runbook and stack (Compose
// file) it lists, and only when all are right record each runbook as a
// catalog version and start a deploy-stack run for each stack marked
// `deploy: auto` (once per commit and stack, however often the commit is
// synced). A commit with a mistake changes nothing and says where the mistake is. A
// connection belongs to one environment and its repository changes runbooks
// of that environment only: a manifest that would change what runs elsewhere
// (it lists another environment, or replaces or is started by a runbook that
// does) is refused like a mistake, with 403.
import path from 'node:path';
import { parse as parseYamlText } from 'yaml';
import { checkGitConfig, fetchRepository, GitError, readOrchFiles, type GitRuntime } from '../../infra/git-manifests.js';
import { planStack } from '../../infra/compose/stack-plan.js';
import type { ManifestError } from '../../manifest/errors.js';
import { JarvisProblem } from '../../manifest/errors.js';
import type { ConfigCheck, ConnectionService } from './connection-service.js';
import type { ImportScope, PreparedImport, RunbookVersionService } from './runbook-version-service.js';

export interface GitSyncResult {
  commit: string;
  imported: Array<{ name: string; version: string }>;
  /** The stacks orch.yaml lists, each validated. */
  stacks: string[];
  /** The deploy-stack runs started for stacks marked `deploy: auto`. */
  deployed: Array<{ stack: string; runId: string }>;
}

/** Starts a run (the RunService's startRun); a sync uses it for stacks deployed on push. */
export type StartRun = (request: { runbook: string; inputs: Record<string, unknown>; environment: string; startedBy: string; idempotency?: string }) => Promise<{ id: string }>;

interface GitSecret {
  token?: string;
  webhookSecret?: string;
}

function asProblem(error: unknown): unknown {
  return error instanceof GitError ? new JarvisProblem(error.message, error.kind) : error;
}

/** The check a git connection's config passes before it is stored (URL transport, branch name). */
export function gitConfigCheck(runtime: GitRuntime): ConfigCheck {
  return async (config) => {
    await checkGitConfig(config, runtime).catch((error: unknown) => {
      throw asProblem(error);
    });
  };
}

export class GitSyncService {
  constructor(
    private readonly connections: ConnectionService,
    private readonly versions: RunbookVersionService,
    private readonly dataDir: string,
    private readonly runtime: GitRuntime,
    private readonly startRun?: StartRun,
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

  /** What a webhook of this connection is checked against: its secret (if it has one) and the branch it follows. */
  async webhookTarget(environment: string, name: string): Promise<{ connectionId: string; branch: string; secret?: string }> {
    const connection = await this.gitConnection(environment, name);
    return { connectionId: connection.id, branch: connection.branch, ...(connection.secret.webhookSecret ? { secret: connection.secret.webhookSecret } : {}) };
  }

  async sync(environment: string, name: string, importedById: string | null): Promise<GitSyncResult> {
    const source = await this.gitConnection(environment, name);
    const directory = path.join(this.dataDir, 'git', source.id);
    let commit: string;
    let files: Awaited<ReturnType<typeof readOrchFiles>>;
    try {
      commit = await fetchRepository({ url: source.url, branch: source.branch, ...(source.secret.token ? { token: source.secret.token } : {}) }, directory, this.runtime);
      files = await readOrchFiles(directory, (text) => parseYamlText(text) as unknown);
    } catch (error) {
      throw asProblem(error);
    }
    const scope: ImportScope = { environments: [environment], importer: `git connection "${name}" of ${environment}`, rule: 'a git connection changes the runbooks of its own environment only' };
    const errors: ManifestError[] = [];
    const outOfScope: ManifestError[] = [];
    const within = (file: string, found: ManifestError[]) => errors.push(...found.map((entry) => ({ path: `${file}: ${entry.path}`, message: entry.message })));
    const prepared: Array<{ file: string; runbook: PreparedImport }> = [];
    for (const runbook of files.runbooks) {
      let checked: PreparedImport;
      try {
        checked = this.versions.prepare(runbook.text);
      } catch (error) {
        if (!(error instanceof JarvisProblem) || error.kind !== 'invalid') throw error;
        within(runbook.file, error.errors);
        continue;
      }
      const refused = this.versions.refusal(checked, scope);
      if (refused) outOfScope.push({ path: `${runbook.file}: environments`, message: refused });
      prepared.push({ file: runbook.file, runbook: checked });
    }
    const stacks: string[] = [];
    for (const stack of files.stacks) {
      const planned = planStack({
        text: stack.text,
        stack: stack.entry.name,
        variables: stack.entry.variables,
        files: stack.files,
        ...(stack.envFile !== undefined ? { envFile: stack.envFile } : {}),
      });
      if (planned.ok) stacks.push(stack.entry.name);
      else within(stack.file, planned.errors);
    }
    if (errors.length > 0) throw new JarvisProblem(`commit ${commit.slice(0, 12)} of ${name} has mistakes; the active versions are unchanged:`, 'invalid', [...errors, ...outOfScope]);
    if (outOfScope.length > 0) {
      throw new JarvisProblem(`commit ${commit.slice(0, 12)} of ${name} would change runbooks outside ${environment}; the active versions are unchanged:`, 'forbidden', outOfScope);
    }
    const imported = [];
    for (const { runbook } of prepared) {
      const view = await this.versions.importManifest(runbook, importedById, scope, `git:${name}@${commit.slice(0, 12)}`);
      imported.push({ name: view.name, version: view.version });
    }
    const deployed: GitSyncResult['deployed'] = [];
    for (const stack of files.stacks.filter((candidate) => candidate.entry.deploy === 'auto')) {
      if (!this.startRun) throw new Error('stacks with deploy: auto need a run starter');
      // Keyed by commit and stack: a redelivered webhook or a second sync of the same commit answers the same run.
      const started = await this.startRun({
        runbook: 'deploy-stack',
        environment,
        startedBy: `git:${name}`,
        idempotency: `git-deploy:${source.id}:${commit}:${stack.entry.name}`,
        inputs: { endpoint: stack.entry.endpoint, name: stack.entry.name, stack: stack.text, variables: stack.entry.variables, files: stack.files, envFile: stack.envFile ?? '' },
      });
      deployed.push({ stack: stack.entry.name, runId: started.id });
    }
    return { commit, imported, stacks, deployed };
  }
}
