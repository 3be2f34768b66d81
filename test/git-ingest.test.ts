// Runbooks from a Git repository (a local bare repository stands in for
// GitHub): a sync imports what orch.yaml lists; a push of a broken manifest is
// reported with its path and the previous version stays active; the push
// webhook must be signed. And what an environment admin could try through a
// connection's URL and branch, replayed: option injection, other transports.
import { execFile, execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnv, parseEnv } from '../config/env.js';
import { checkGitUrl, gitEnvironment } from '../infra/git-manifests.js';
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

const greet = (message: string) => `name: greet\ntitle: Greets\nenvironments: [dev]\nsteps:\n  - id: hello\n    action: core.noop\n    with: { message: "${message}" }\n`;

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
      'stacks/shop.yaml': 'services:\n  web:\n    image: shop:1\n    deploy: { replicas: 2 }\n',
    },
    'first runbook',
  );
  api = await startApiForTests(writeManifests({}), [{ email: 'gitadmin@example.org', password: PASSWORD, grants: [['dev', 'admin']] }], { gitAllowFileUrls: true });
  await api.services.connections.create({ environment: 'dev', name: 'ops-repo', type: 'git', config: { url: bare, branch: 'main' }, secret: JSON.stringify({ webhookSecret: WEBHOOK_SECRET }) });
  token = await api.logIn('gitadmin@example.org', PASSWORD);
}, 120_000);

afterAll(async () => api?.stop());

const sync = (connection = 'ops-repo') => api.app.inject({ method: 'POST', url: '/git/sync', headers: { authorization: `Bearer ${token}` }, payload: { environment: 'dev', connection } });
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

/** A connection as rows written before these checks (or by hand in the database) could hold it: past the API's validation. */
async function plantConnection(name: string, config: { url: string; branch: string }) {
  const created = await api.services.connections.create({ environment: 'dev', name, type: 'git', config: { url: bare, branch: 'main' } });
  await api.prisma.connection.update({ where: { id: created.id }, data: { config } });
  return created.id;
}

const createConnection = (config: Record<string, unknown>) =>
  api.app.inject({ method: 'POST', url: '/connections', headers: { authorization: `Bearer ${token}` }, payload: { environment: 'dev', name: `repo-${crypto.randomUUID().slice(0, 8)}`, type: 'git', config } });

describe('git connections, as an environment admin would attack them', () => {
  it('refuses a branch that git would read as --upload-pack, on create and on change, and never runs its command', async () => {
    const marker = path.join(root, 'pwned-by-branch');
    const created = await createConnection({ url: bare, branch: `--upload-pack=touch ${marker}` });
    expect(created.statusCode).toBe(400);
    expect(created.json().detail).toContain('config.branch');
    const ops = (await api.services.connections.list(['dev'])).find((connection) => connection.name === 'ops-repo')!;
    const changed = await api.app.inject({ method: 'PATCH', url: `/connections/${ops.id}`, headers: { authorization: `Bearer ${token}` }, payload: { config: { url: bare, branch: `--upload-pack=touch ${marker}` } } });
    expect(changed.statusCode).toBe(400);
    for (const branch of ['-x', '+main', '@{-1}', 'a..b', 'HEAD']) expect((await createConnection({ url: bare, branch })).statusCode, branch).toBe(400);
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses a planted option-like branch at sync, on the first clone and on a later fetch, without running it', async () => {
    const marker = path.join(root, 'pwned-by-planted-branch');
    await plantConnection('planted-clone', { url: bare, branch: `--upload-pack=touch ${marker}` });
    const cloning = await sync('planted-clone');
    expect(cloning.statusCode).toBe(400);
    expect(cloning.json().detail).toContain('config.branch');
    // A repository already cloned goes through `git fetch`, where a branch once sat in the refspec's place.
    const id = await plantConnection('planted-fetch', { url: bare, branch: 'main' });
    expect((await sync('planted-fetch')).statusCode).toBe(200);
    await api.prisma.connection.update({ where: { id }, data: { config: { url: bare, branch: `--upload-pack=touch ${marker}` } } });
    expect((await sync('planted-fetch')).statusCode).toBe(400);
    expect(existsSync(marker)).toBe(false);
  });

  it('accepts https, ssh and user@host:path URLs and refuses ext::, http, git://, option-like and password-carrying ones', async () => {
    const marker = path.join(root, 'pwned-by-url');
    for (const url of ['https://github.com/acme/ops.git', 'ssh://git@github.com/acme/ops.git', 'git@github.com:acme/ops.git']) {
      expect((await createConnection({ url, branch: 'main' })).statusCode, url).toBe(201);
    }
    for (const url of [
      `ext::sh -c touch% ${marker}`,
      'http://github.com/acme/ops.git',
      'git://github.com/acme/ops.git',
      `--upload-pack=touch ${marker}`,
      'ssh://-oProxyCommand=touch%20pwned/acme/ops.git',
      'git@-oProxyCommand=x:acme/ops.git',
      'https://user:hunter2@github.com/acme/ops.git',
      'fd::17',
    ]) {
      const response = await createConnection({ url, branch: 'main' });
      expect(response.statusCode, url).toBe(400);
      expect(response.json().detail, url).toMatch(/^config\.url /);
    }
    expect((await createConnection({ branch: 'main' })).json().detail).toContain('needs config.url');
    // Planted past the API, the sync refuses it before git runs.
    await plantConnection('planted-ext', { url: `ext::sh -c touch% ${marker}`, branch: 'main' });
    const planted = await sync('planted-ext');
    expect(planted.statusCode).toBe(400);
    expect(planted.json().detail).toContain('transport');
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses local repositories unless JARVIS_GIT_ALLOW_FILE_URLS says otherwise', () => {
    expect(parseEnv({}).gitAllowFileUrls).toBe(false);
    expect(parseEnv({ JARVIS_GIT_ALLOW_FILE_URLS: 'true' }).gitAllowFileUrls).toBe(true);
    expect(() => checkGitUrl(bare, false)).toThrow(/transport/);
    expect(() => checkGitUrl(`file://${bare}`, false)).toThrow(/transport/);
    expect(() => checkGitUrl(`file://${bare}`, true)).not.toThrow();
  });

  it('runs git with an environment of its own, in which git itself refuses ext:: (and file, unless allowed)', async () => {
    const runtime = { allowFileUrls: false, home: path.join(root, 'git-home'), searchPath: loadEnv().searchPath };
    mkdirSync(runtime.home, { recursive: true });
    const environment = gitEnvironment(runtime, 'the-token');
    expect(Object.keys(environment).sort()).toEqual(['GIT_ALLOW_PROTOCOL', 'GIT_CONFIG_COUNT', 'GIT_CONFIG_KEY_0', 'GIT_CONFIG_VALUE_0', 'GIT_TERMINAL_PROMPT', 'HOME', 'PATH']);
    expect(environment).toMatchObject({ GIT_ALLOW_PROTOCOL: 'https:ssh', HOME: runtime.home, GIT_TERMINAL_PROMPT: '0' });
    // Past every check in Jarvis (as a submodule or a redirect would be), git still will not run the ext:: command.
    const marker = path.join(root, 'pwned-by-ext');
    const attempt = promisify(execFile)('git', ['ls-remote', '--', `ext::sh -c touch% ${marker}`], { env: environment, cwd: runtime.home });
    await expect(attempt).rejects.toThrow(/not allowed/);
    expect(existsSync(marker)).toBe(false);
    await expect(promisify(execFile)('git', ['ls-remote', '--', `file://${bare}`], { env: environment, cwd: runtime.home })).rejects.toThrow(/not allowed/);
  });

  it('refuses an orch.yaml that lists a link to a file outside the repository', async () => {
    commitAndPush({ 'orch.yaml': 'runbooks: [runbooks/greet.yaml, runbooks/secret.yaml]\nstacks: [stacks/shop.yaml]\n' }, 'list a link');
    symlinkSync(path.join(root, 'outside.yaml'), path.join(work, 'runbooks', 'secret.yaml'));
    writeFileSync(path.join(root, 'outside.yaml'), greet('outside'));
    commitAndPush({}, 'a link out');
    const response = await sync();
    expect(response.statusCode).toBe(400);
    expect(response.json().detail).toContain('runbooks/secret.yaml is a link that leads outside the repository');
    git('rm', '-q', 'runbooks/secret.yaml');
    commitAndPush({ 'orch.yaml': 'runbooks: [runbooks/greet.yaml]\nstacks: [stacks/shop.yaml]\n' }, 'no link');
  });
});
