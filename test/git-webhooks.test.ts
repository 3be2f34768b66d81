// The git webhook as GitHub, GitLab and Gitea/Forgejo send it: each host's
// signature, encoding and event headers; a push to the connection's branch
// syncs, everything else is answered without a sync; a redelivery syncs once.
// Whether a sync happened is seen in the catalog: a sync imports the newest
// commit of the branch, so each test pushes a new commit first and checks
// whether it became the active version. Payloads are our own, in the shapes
// the hosts document.
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiForTests } from './api-harness.js';
import { scratchDir, writeManifests } from './files.js';

const SECRET = 'webhook secret of the ops repo';
const root = scratchDir();
const bare = path.join(root, 'ops.git');
const work = path.join(root, 'work');
const git = (...args: string[]) =>
  execFileSync('git', args, { cwd: work, stdio: 'pipe', env: { ...process.env, GIT_AUTHOR_NAME: 'ops', GIT_AUTHOR_EMAIL: 'ops@example.org', GIT_COMMITTER_NAME: 'ops', GIT_COMMITTER_EMAIL: 'ops@example.org' } })
    .toString()
    .trim();

const greet = (message: string) => `name: greet\ntitle: Greets\nenvironments: [dev]\nsteps:\n  - id: hello\n    action: core.noop\n    with: { message: "${message}" }\n`;

/** Commits a new greet runbook (or the text given) to main and pushes it; returns the commit. */
function pushCommit(message: string, text = greet(message)): string {
  writeFileSync(path.join(work, 'runbooks', 'greet.yaml'), text);
  git('commit', '-q', '-am', message);
  git('push', '-q', 'origin', 'main');
  return git('rev-parse', 'HEAD');
}

let api: Awaited<ReturnType<typeof startApiForTests>>;

beforeAll(async () => {
  execFileSync('git', ['init', '-q', '--bare', '--initial-branch=main', bare]);
  mkdirSync(path.join(work, 'runbooks'), { recursive: true });
  git('init', '-q', '--initial-branch=main');
  git('remote', 'add', 'origin', bare);
  writeFileSync(path.join(work, 'orch.yaml'), 'runbooks: [runbooks/greet.yaml]\n');
  writeFileSync(path.join(work, 'runbooks', 'greet.yaml'), greet('first'));
  git('add', '-A');
  git('commit', '-q', '-m', 'first');
  git('push', '-q', 'origin', 'main');
  // The grant creates the environment the connection lives in.
  api = await startApiForTests(writeManifests({}), [{ email: 'hooks@example.org', password: 'hooks admin password 1', grants: [['dev', 'admin']] }], { gitAllowFileUrls: true });
  await api.services.connections.create({ environment: 'dev', name: 'ops-repo', type: 'git', config: { url: bare, branch: 'main' }, secret: JSON.stringify({ webhookSecret: SECRET }) });
}, 120_000);

afterAll(async () => api?.stop());

/** The commit (12 characters) the active greet version was imported from, if any. */
const activeCommit = async () => (await api.services.runbookVersions.versions('greet')).find((version) => version.active)?.source?.replace('git:ops-repo@', '');
const expectSynced = async (commit: string) => expect(await activeCommit()).toBe(commit.slice(0, 12));
const expectNotSynced = async (commit: string) => expect(await activeCommit()).not.toBe(commit.slice(0, 12));

const deliver = (headers: Record<string, string>, payload: string) => api.app.inject({ method: 'POST', url: '/webhooks/git/dev/ops-repo', headers, payload });
const hmac = (body: string, secret = SECRET) => createHmac('sha256', secret).update(body).digest('hex');

const commitEntry = (commit: string) => ({ id: commit, message: 'change greet', timestamp: '2026-12-01T05:00:00Z', author: { name: 'ops', email: 'ops@example.org' } });

function githubPush(ref: string, after: string) {
  return {
    ref,
    before: '0'.repeat(40),
    after,
    created: false,
    deleted: false,
    forced: false,
    compare: `https://github.com/acme/ops/compare/${after.slice(0, 12)}`,
    commits: [commitEntry(after)],
    head_commit: commitEntry(after),
    repository: { id: 4242, name: 'ops', full_name: 'acme/ops', default_branch: 'main', clone_url: 'https://github.com/acme/ops.git' },
    pusher: { name: 'ops', email: 'ops@example.org' },
    sender: { login: 'ops', id: 7 },
  };
}

/** GitHub's default content type: the JSON in the `payload` field of a form, signed as sent. */
function githubForm(event: string, delivery: string, payload: unknown, secret = SECRET) {
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  return {
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-github-event': event, 'x-github-delivery': delivery, 'x-hub-signature-256': `sha256=${hmac(body, secret)}`, 'user-agent': 'GitHub-Hookshot/abc123' },
    body,
  };
}

function githubJson(event: string, delivery: string, payload: unknown) {
  const body = JSON.stringify(payload);
  return { headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': delivery, 'x-hub-signature-256': `sha256=${hmac(body)}` }, body };
}

function gitlab(event: 'Push Hook' | 'Tag Push Hook', uuid: string, ref: string, after: string, token = SECRET) {
  const body = JSON.stringify({
    object_kind: event === 'Push Hook' ? 'push' : 'tag_push',
    event_name: event === 'Push Hook' ? 'push' : 'tag_push',
    before: '0'.repeat(40),
    after,
    ref,
    checkout_sha: after,
    user_name: 'ops',
    project_id: 15,
    project: { id: 15, name: 'ops', path_with_namespace: 'acme/ops', default_branch: 'main' },
    commits: [{ id: after, message: 'change greet', title: 'change greet', timestamp: '2026-12-01T05:00:00+00:00', author: { name: 'ops', email: 'ops@example.org' } }],
    total_commits_count: 1,
  });
  return { headers: { 'content-type': 'application/json', 'x-gitlab-event': event, 'x-gitlab-token': token, 'x-gitlab-event-uuid': uuid, 'x-gitlab-instance': 'https://gitlab.example.org' }, body };
}

/** Gitea sends its own headers and, for compatibility, GitHub's and Gogs's; Forgejo adds its own names. */
function gitea(ref: string, after: string, delivery: string, options: { forgejo?: boolean; secret?: string } = {}) {
  const body = JSON.stringify({
    ref,
    before: '0'.repeat(40),
    after,
    compare_url: `https://gitea.example.org/acme/ops/compare/${after.slice(0, 12)}`,
    commits: [{ id: after, message: 'change greet\n', url: `https://gitea.example.org/acme/ops/commit/${after}`, author: { name: 'ops', email: 'ops@example.org', username: 'ops' } }],
    repository: { id: 3, name: 'ops', full_name: 'acme/ops', default_branch: 'main' },
    pusher: { login: 'ops' },
    sender: { login: 'ops' },
  });
  const signature = hmac(body, options.secret ?? SECRET);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-github-event': 'push',
    'x-github-delivery': delivery,
    'x-gogs-event': 'push',
    'x-gitea-event': 'push',
    'x-gitea-delivery': delivery,
    'x-gitea-signature': signature,
    'x-hub-signature-256': `sha256=${signature}`,
  };
  if (options.forgejo) Object.assign(headers, { 'x-forgejo-event': 'push', 'x-forgejo-delivery': delivery, 'x-forgejo-signature': signature });
  return { headers, body };
}

describe('GitHub webhooks', () => {
  it('syncs a push to the branch sent form-encoded (GitHub’s default), and a redelivery of it only once', async () => {
    const commit = pushCommit('github form');
    const push = githubForm('push', 'delivery-form-1', githubPush('refs/heads/main', commit));
    const response = await deliver(push.headers, push.body);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ outcome: 'synced', host: 'github', event: 'push', delivery: 'delivery-form-1', sync: { commit } });
    await expectSynced(commit);

    const later = pushCommit('github redelivered');
    const again = await deliver(push.headers, push.body);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ outcome: 'duplicate', detail: expect.stringContaining('already handled') });
    await expectNotSynced(later);
  });

  it('syncs a push sent as JSON', async () => {
    const commit = pushCommit('github json');
    const push = githubJson('push', 'delivery-json-1', githubPush('refs/heads/main', commit));
    const response = await deliver(push.headers, push.body);
    expect(response.statusCode, response.body).toBe(200);
    await expectSynced(commit);
  });

  it('answers a ping without syncing, and says so', async () => {
    const commit = pushCommit('github ping');
    const ping = githubForm('ping', 'delivery-ping', { zen: 'Keep it logically awesome.', hook_id: 99, hook: { type: 'Repository', events: ['push'], config: { content_type: 'form' } } });
    const response = await deliver(ping.headers, ping.body);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ outcome: 'pong', detail: expect.stringContaining('nothing was synced') });
    await expectNotSynced(commit);
  });

  it('ignores tag pushes, pushes to other branches and other events, saying why', async () => {
    const commit = pushCommit('github ignored');
    const cases = [
      { request: githubForm('push', 'delivery-tag', githubPush('refs/tags/v1.0.0', commit)), says: 'tag v1.0.0' },
      { request: githubForm('push', 'delivery-branch', githubPush('refs/heads/feature', commit)), says: 'refs/heads/feature' },
      { request: githubJson('issues', 'delivery-issue', { action: 'opened', issue: { number: 1, title: 'broken' } }), says: '"issues" is not a push' },
    ];
    for (const { request, says } of cases) {
      const response = await deliver(request.headers, request.body);
      expect(response.statusCode, says).toBe(202);
      expect(response.json(), says).toMatchObject({ outcome: 'ignored', detail: expect.stringContaining(says) });
      expect(response.json().detail).toContain('nothing was synced');
    }
    await expectNotSynced(commit);
  });

  it('refuses and audits unsigned requests and signatures that are not over the bytes sent', async () => {
    const commit = pushCommit('github forged');
    const payload = githubPush('refs/heads/main', commit);
    const form = githubForm('push', 'delivery-forged', payload);
    const refusals = [
      { ...form.headers, 'x-hub-signature-256': undefined },
      // Signed over the JSON inside the form rather than over the form itself.
      { ...form.headers, 'x-hub-signature-256': `sha256=${hmac(JSON.stringify(payload))}` },
      githubForm('push', 'delivery-forged', payload, 'another secret').headers,
    ];
    for (const headers of refusals) {
      const response = await deliver(Object.fromEntries(Object.entries(headers).filter((entry): entry is [string, string] => entry[1] !== undefined)), form.body);
      expect(response.statusCode).toBe(401);
      expect(response.json().detail).toContain('X-Hub-Signature-256');
    }
    await expectNotSynced(commit);
    const denied = await api.prisma.auditEntry.count({ where: { targetType: 'git', targetId: 'ops-repo', outcome: 'denied' } });
    expect(denied).toBeGreaterThanOrEqual(3);
  });

  it('syncs a redelivery whose first delivery failed', async () => {
    pushCommit('broken', 'name: greet\ntitle: Greets\nsteps:\n  - id: hello\n    action: core.nope\n');
    const push = githubJson('push', 'delivery-after-fix', githubPush('refs/heads/main', git('rev-parse', 'HEAD')));
    expect((await deliver(push.headers, push.body)).statusCode).toBe(400);
    const fixed = pushCommit('fixed');
    const again = await deliver(push.headers, push.body);
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json().outcome).toBe('synced');
    await expectSynced(fixed);
  });

  it('forgets deliveries older than a week', async () => {
    const connection = (await api.services.connections.list(['dev'])).find((entry) => entry.name === 'ops-repo')!;
    await api.prisma.gitWebhookDelivery.create({ data: { connectionId: connection.id, deliveryId: 'github:ancient', receivedAt: new Date(Date.now() - 8 * 24 * 60 * 60 * 1000) } });
    const commit = pushCommit('github after a week');
    const push = githubJson('push', 'delivery-new', githubPush('refs/heads/main', commit));
    expect((await deliver(push.headers, push.body)).statusCode).toBe(200);
    expect(await api.prisma.gitWebhookDelivery.findUnique({ where: { connectionId_deliveryId: { connectionId: connection.id, deliveryId: 'github:ancient' } } })).toBeNull();
  });
});

describe('GitLab webhooks', () => {
  it('syncs a Push Hook to the branch with the right X-Gitlab-Token, once per event UUID', async () => {
    const commit = pushCommit('gitlab push');
    const push = gitlab('Push Hook', '8b5f5b38-gl-1', 'refs/heads/main', commit);
    const response = await deliver(push.headers, push.body);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ outcome: 'synced', host: 'gitlab', event: 'Push Hook', delivery: '8b5f5b38-gl-1' });
    await expectSynced(commit);
    const later = pushCommit('gitlab redelivered');
    expect((await deliver(push.headers, push.body)).json().outcome).toBe('duplicate');
    await expectNotSynced(later);
  });

  it('ignores a Tag Push Hook and refuses a wrong token', async () => {
    const commit = pushCommit('gitlab tag');
    const tag = gitlab('Tag Push Hook', '8b5f5b38-gl-2', 'refs/tags/v2', commit);
    const ignored = await deliver(tag.headers, tag.body);
    expect(ignored.statusCode).toBe(202);
    expect(ignored.json()).toMatchObject({ outcome: 'ignored', detail: expect.stringContaining('tag v2') });
    const forged = gitlab('Push Hook', '8b5f5b38-gl-3', 'refs/heads/main', commit, 'not the secret');
    const refused = await deliver(forged.headers, forged.body);
    expect(refused.statusCode).toBe(401);
    expect(refused.json().detail).toContain('X-Gitlab-Token');
    await expectNotSynced(commit);
  });
});

describe('Gitea and Forgejo webhooks', () => {
  it('syncs a push signed with X-Gitea-Signature, once per X-Gitea-Delivery', async () => {
    const commit = pushCommit('gitea push');
    const push = gitea('refs/heads/main', commit, 'gitea-delivery-1');
    const response = await deliver(push.headers, push.body);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ outcome: 'synced', host: 'gitea', event: 'push', delivery: 'gitea-delivery-1' });
    await expectSynced(commit);
    const later = pushCommit('gitea redelivered');
    expect((await deliver(push.headers, push.body)).json().outcome).toBe('duplicate');
    await expectNotSynced(later);
  });

  it('syncs a Forgejo push, ignores another branch and refuses a wrong signature', async () => {
    const commit = pushCommit('forgejo push');
    const other = gitea('refs/heads/develop', commit, 'forgejo-delivery-0', { forgejo: true });
    expect((await deliver(other.headers, other.body)).statusCode).toBe(202);
    await expectNotSynced(commit);
    const forged = gitea('refs/heads/main', commit, 'forgejo-delivery-1', { forgejo: true, secret: 'not the secret' });
    const refused = await deliver(forged.headers, forged.body);
    expect(refused.statusCode).toBe(401);
    expect(refused.json().detail).toContain('X-Gitea-Signature');
    await expectNotSynced(commit);
    const push = gitea('refs/heads/main', commit, 'forgejo-delivery-2', { forgejo: true });
    const response = await deliver(push.headers, push.body);
    expect(response.statusCode, response.body).toBe(200);
    await expectSynced(commit);
  });

  it('syncs a form-encoded Gitea push signed over the JSON it carries', async () => {
    const commit = pushCommit('gitea form');
    const json = gitea('refs/heads/main', commit, 'gitea-form-1');
    const body = new URLSearchParams({ payload: json.body }).toString();
    const response = await deliver({ ...json.headers, 'content-type': 'application/x-www-form-urlencoded' }, body);
    expect(response.statusCode, response.body).toBe(200);
    await expectSynced(commit);
  });
});
