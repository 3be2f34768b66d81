// Catalog changes are scoped: importing a runbook changes what runs wherever
// the runbook runs, so an environment admin of dev may not replace (through
// the API or a git connection of dev) a runbook that prod runs, directly or as
// the child of a prod runbook. Each test replays the attempt.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiForTests } from './api-harness.js';
import { scratchDir, writeManifests } from './files.js';

const PASSWORD = 'catalog scope password 1';
const manifest = (name: string, environments: string[], message = name) =>
  `name: ${name}\ntitle: ${name}\nenvironments: [${environments.join(', ')}]\nsteps:\n  - id: say\n    action: core.noop\n    with: { message: "${message}" }\n`;

const runbooks = {
  deploy: manifest('deploy', ['dev', 'prod']),
  helper: manifest('helper', ['dev']),
  // prod runs helper's steps as a child: a new helper runs in prod.
  release: 'name: release\ntitle: Release\nenvironments: [prod]\nsteps:\n  - id: help\n    runbook: helper\n',
  sandbox: manifest('sandbox', ['dev']),
};

let api: Awaited<ReturnType<typeof startApiForTests>>;
const tokens: Record<'devAdmin' | 'fullAdmin', string> = { devAdmin: '', fullAdmin: '' };

beforeAll(async () => {
  api = await startApiForTests(
    writeManifests(runbooks),
    [
      { email: 'dev-admin@example.org', password: PASSWORD, grants: [['dev', 'admin']] },
      { email: 'full-admin@example.org', password: PASSWORD, grants: [['dev', 'admin'], ['prod', 'admin']] },
    ],
    { gitAllowFileUrls: true },
  );
  tokens.devAdmin = await api.logIn('dev-admin@example.org', PASSWORD);
  tokens.fullAdmin = await api.logIn('full-admin@example.org', PASSWORD);
}, 120_000);

afterAll(async () => api?.stop());

const importAs = (who: keyof typeof tokens, text: string) =>
  api.app.inject({ method: 'POST', url: '/runbooks/import', headers: { authorization: `Bearer ${tokens[who]}` }, payload: { manifest: text } });
const environmentsOf = (name: string) => {
  const compiled = api.services.catalog.compile(name);
  return compiled?.ok ? compiled.compiled.runbook.environments : undefined;
};

describe('importing a runbook through the API', () => {
  it('refuses a dev admin replacing a runbook that prod runs, names prod, audits the refusal and changes nothing', async () => {
    const response = await importAs('devAdmin', manifest('deploy', ['dev'], 'hijacked'));
    expect(response.statusCode).toBe(403);
    expect(response.json().detail).toBe(
      'replacing runbook "deploy" changes what runs in dev, prod; you may not change runbooks in prod (that needs the admin role in each)',
    );
    expect(environmentsOf('deploy')).toEqual(['dev', 'prod']);
    expect(await api.services.runbookVersions.versions('deploy')).toEqual([]);
    const audit = await api.prisma.auditEntry.findFirst({ where: { action: 'POST /runbooks/import', targetId: 'deploy' }, orderBy: { id: 'desc' } });
    expect(audit).toMatchObject({ actorEmail: 'dev-admin@example.org', targetType: 'runbook', outcome: 'denied', details: { status: 403, environments: ['dev', 'prod'] } });
  });

  it('refuses a dev admin a new runbook that lists prod', async () => {
    const response = await importAs('devAdmin', manifest('newcomer', ['dev', 'prod']));
    expect(response.statusCode).toBe(403);
    expect(response.json().detail).toContain('may not change runbooks in prod');
    expect(api.services.catalog.has('newcomer')).toBe(false);
  });

  it('refuses a dev admin replacing a dev runbook that a prod runbook starts as a child', async () => {
    const response = await importAs('devAdmin', manifest('helper', ['dev'], 'hijacked'));
    expect(response.statusCode).toBe(403);
    expect(response.json().detail).toContain('changes what runs in dev, prod');
  });

  it('lets a dev admin change what runs in dev only, and an admin of dev and prod change deploy', async () => {
    expect((await importAs('devAdmin', manifest('sandbox', ['dev'], 'v2'))).statusCode).toBe(201);
    expect((await importAs('devAdmin', manifest('scratch', ['dev']))).statusCode).toBe(201);
    const deploy = await importAs('fullAdmin', manifest('deploy', ['dev', 'prod'], 'v2'));
    expect(deploy.statusCode, deploy.body).toBe(201);
    // Narrowing deploy to dev does not hand it to dev: the replaced version still listed prod.
    expect((await importAs('devAdmin', manifest('deploy', ['dev'], 'v3'))).statusCode).toBe(403);
  });
});

describe('importing runbooks from a git connection', () => {
  const root = scratchDir();
  const bare = path.join(root, 'ops.git');
  const work = path.join(root, 'work');
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: work, stdio: 'pipe', env: { ...process.env, GIT_AUTHOR_NAME: 'ops', GIT_AUTHOR_EMAIL: 'ops@example.org', GIT_COMMITTER_NAME: 'ops', GIT_COMMITTER_EMAIL: 'ops@example.org' } });
  const push = (files: Record<string, string>) => {
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(work, file)), { recursive: true });
      writeFileSync(path.join(work, file), text);
    }
    git('add', '-A');
    git('commit', '-q', '-m', 'change');
    git('push', '-q', 'origin', 'main');
  };
  const sync = () => api.app.inject({ method: 'POST', url: '/git/sync', headers: { authorization: `Bearer ${tokens.fullAdmin}` }, payload: { environment: 'dev', connection: 'dev-repo' } });

  beforeAll(async () => {
    execFileSync('git', ['init', '-q', '--bare', '--initial-branch=main', bare]);
    mkdirSync(work, { recursive: true });
    git('init', '-q', '--initial-branch=main');
    git('remote', 'add', 'origin', bare);
    await api.services.connections.create({ environment: 'dev', name: 'dev-repo', type: 'git', config: { url: bare, branch: 'main' } });
  });

  it('refuses, file by file, manifests that reach prod, and imports none of the commit', async () => {
    push({
      'orch.yaml': 'runbooks: [runbooks/fine.yaml, runbooks/prod.yaml, runbooks/deploy.yaml, runbooks/defaults.yaml]\n',
      'runbooks/fine.yaml': manifest('fine', ['dev']),
      'runbooks/prod.yaml': manifest('prodonly', ['prod']),
      'runbooks/deploy.yaml': manifest('deploy', ['dev'], 'hijacked'),
      // No list means every environment (dev, staging, prod).
      'runbooks/defaults.yaml': 'name: everywhere\ntitle: Everywhere\nsteps:\n  - id: say\n    action: core.noop\n',
    });
    // Even an admin of dev and prod syncs with the connection's reach, not their own.
    const response = await sync();
    expect(response.statusCode).toBe(403);
    const problem = response.json() as { detail: string; errors: Array<{ path: string; message: string }> };
    expect(problem.detail).toMatch(/would change runbooks outside dev; the active versions are unchanged/);
    expect(problem.errors.map((error) => error.path)).toEqual(['runbooks/prod.yaml: environments', 'runbooks/deploy.yaml: environments', 'runbooks/defaults.yaml: environments']);
    expect(problem.errors[1]!.message).toBe(
      'replacing runbook "deploy" changes what runs in dev, prod; git connection "dev-repo" of dev may not change runbooks in prod (a git connection changes the runbooks of its own environment only)',
    );
    expect(api.services.catalog.has('fine')).toBe(false);
    expect(await api.services.runbookVersions.versions('fine')).toEqual([]);
    expect(environmentsOf('deploy')).toEqual(['dev', 'prod']);
    const audit = await api.prisma.auditEntry.findFirst({ where: { action: 'POST /git/sync', targetId: 'dev-repo' }, orderBy: { id: 'desc' } });
    expect(audit).toMatchObject({ outcome: 'denied' });
  });

  it('imports a commit that stays inside dev', async () => {
    push({ 'orch.yaml': 'runbooks: [runbooks/fine.yaml]\n' });
    const response = await sync();
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().imported).toEqual([{ name: 'fine', version: expect.any(String) }]);
  });
});
