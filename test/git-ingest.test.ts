// Runbooks from a Git repository (a local bare repository stands in for
// GitHub): a sync imports what orch.yaml lists; a push of a broken manifest is
// reported with its path and the previous version stays active; the push
// webhook must be signed.
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiForTests } from './api-harness.js';
import { scratchDir, writeManifests } from './files.js';

const PASSWORD = 'git admin password 1';
const WEBHOOK_SECRET = 'webhook-secret-for-tests';
const root = scratchDir();
const bare = path.join(root, 'ops.git');
const work = path.join(root, 'work');
const git = (...args: string[]) => execFileSync('git', args, { cwd: work, stdio: 'pipe', env: { ...process.env, GIT_AUTHOR_NAME: 'ops', GIT_AUTHOR_EMAIL: 'ops@example.org', GIT_COMMITTER_NAME: 'ops', GIT_COMMITTER_EMAIL: 'ops@example.org' } }).toString();

function commitAndPush(files: Record<string, string>, message: string) {
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(work, file)), { recursive: true });
    writeFileSync(path.join(work, file), text);
  }
  git('add', '-A');
  git('commit', '-q', '-m', message);
  git('push', '-q', 'origin', 'main');
}

const greet = (message: string) => `name: greet\ntitle: Greets\nsteps:\n  - id: hello\n    action: core.noop\n    with: { message: "${message}" }\n`;

let api: Awaited<ReturnType<typeof startApiForTests>>;
let token: string;

beforeAll(async () => {
  execFileSync('git', ['init', '-q', '--bare', '--initial-branch=main', bare]);
  mkdirSync(work, { recursive: true });
  git('init', '-q', '--initial-branch=main');
  git('remote', 'add', 'origin', bare);
  commitAndPush(
    {
      'orch.yaml': 'runbooks: [runbooks/greet.yaml]\nstacks: [stacks/shop.yaml]\n',
      'runbooks/greet.yaml': greet('first'),
      'stacks/shop.yaml': 'name: shop\nservices:\n  web:\n    image: shop:1\n    replicas: 2\n',
    },
    'first runbook',
  );
  api = await startApiForTests(writeManifests({}), [{ email: 'gitadmin@example.org', password: PASSWORD, grants: [['dev', 'admin']] }]);
  await api.services.connections.create({ environment: 'dev', name: 'ops-repo', type: 'git', config: { url: bare, branch: 'main' }, secret: JSON.stringify({ webhookSecret: WEBHOOK_SECRET }) });
  token = await api.logIn('gitadmin@example.org', PASSWORD);
}, 120_000);

afterAll(async () => api?.stop());

const sync = () => api.app.inject({ method: 'POST', url: '/git/sync', headers: { authorization: `Bearer ${token}` }, payload: { environment: 'dev', connection: 'ops-repo' } });
const activeVersion = async () => (await api.services.runbookVersions.versions('greet')).find((version) => version.active);

describe('runbooks from Git', () => {
  it('imports the runbooks orch.yaml lists, as catalog versions naming the commit', async () => {
    const response = await sync();
    expect(response.statusCode, response.body).toBe(200);
    const result = response.json();
    expect(result).toMatchObject({ imported: [{ name: 'greet' }], stacks: ['shop'] });
    expect(await activeVersion()).toMatchObject({ source: `git:ops-repo@${result.commit.slice(0, 12)}` });
    expect(api.services.catalog.compile('greet')?.ok).toBe(true);
  });

  it('keeps the previous version active when a push breaks a manifest, and says where', async () => {
    const before = await activeVersion();
    commitAndPush({ 'runbooks/greet.yaml': 'name: greet\ntitle: Greets\nsteps:\n  - id: hello\n    action: core.nope\n' }, 'broken');
    const response = await sync();
    expect(response.statusCode).toBe(400);
    const problem = response.json() as { detail: string; errors: Array<{ path: string; message: string }> };
    expect(problem.detail).toContain('the active versions are unchanged');
    expect(problem.errors).toEqual([expect.objectContaining({ path: 'runbooks/greet.yaml: steps[0].action', message: expect.stringContaining('unknown action "core.nope"') })]);
    expect(await activeVersion()).toEqual(before);
  });

  it('re-syncs on a signed push webhook and refuses an unsigned one', async () => {
    commitAndPush({ 'runbooks/greet.yaml': greet('second') }, 'fixed');
    const body = JSON.stringify({ ref: 'refs/heads/main' });
    const unsigned = await api.app.inject({ method: 'POST', url: '/webhooks/git/dev/ops-repo', headers: { 'content-type': 'application/json' }, payload: body });
    expect(unsigned.statusCode).toBe(401);
    const forged = await api.app.inject({ method: 'POST', url: '/webhooks/git/dev/ops-repo', headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` }, payload: body });
    expect(forged.statusCode).toBe(401);
    const signature = `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex')}`;
    const signed = await api.app.inject({ method: 'POST', url: '/webhooks/git/dev/ops-repo', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature }, payload: body });
    expect(signed.statusCode, signed.body).toBe(200);
    const versions = await api.services.runbookVersions.versions('greet');
    expect(versions.filter((version) => version.active)).toHaveLength(1);
    expect(versions).toHaveLength(2);
    const audit = await api.prisma.auditEntry.findFirst({ where: { targetType: 'git', outcome: 'success', details: { path: ['via'], equals: 'webhook' } } });
    expect(audit).not.toBeNull();
  });
});
