// Run artifacts end to end on the local-disk store: the built-in
// postgres-backup runbook publishes its dump, which a user of the run's
// environment downloads and verifies, and nobody else can list or fetch;
// shell.run publishes files of its working directory and refuses paths and
// symlinks leading out of it, and files over the limits; a step's name for a
// file is metadata, never a path.
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import { Readable } from 'node:stream';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArtifactSettings } from '../artifacts/artifact-settings.js';
import { LocalArtifactStore } from '../artifacts/local-artifact-store.js';
import { RunArtifacts } from '../artifacts/run-artifacts.js';
import { PROJECT_ROOT } from '../config/env.js';
import { startApiForTests } from './api-harness.js';
import { createServerDatabase } from './databases.js';
import { scratchDir, writeManifests } from './files.js';

const VIEWER = { email: 'viewer@example.org', password: 'viewer password 123', grants: [['dev', 'viewer']] as Array<['dev', 'viewer']> };
const OPERATOR = { email: 'dba@example.org', password: 'operator password 123', grants: [['dev', 'operator']] as Array<['dev', 'operator']> };
const OUTSIDER = { email: 'staging@example.org', password: 'staging password 123', grants: [['staging', 'admin']] as Array<['staging', 'admin']> };

const MiB = 1024 * 1024;
const artifactsDir = mkdtempSync(path.join(os.tmpdir(), 'jarvis-artifacts-'));
const settings: ArtifactSettings = { backend: 'local', directory: artifactsDir, limits: { maxFileBytes: MiB, maxStepBytes: 1.5 * MiB } };

/** A runbook of one shell.run step with `artifacts`, tried once. */
function shellRunbook(name: string, command: string, artifacts: unknown[]): string {
  return `
name: ${name}
title: ${name}
steps:
  - id: make
    action: shell.run
    with:
      command: ${JSON.stringify(command)}
      shell: true
      artifacts: ${JSON.stringify(artifacts)}
    retry: { maxAttempts: 1 }
`;
}

let api: Awaited<ReturnType<typeof startApiForTests>>;
let target: Awaited<ReturnType<typeof createServerDatabase>>;

beforeAll(async () => {
  target = await createServerDatabase();
  const owner = new pg.Client({ connectionString: target.url });
  await owner.connect();
  await owner.query('CREATE TABLE invoices (id int PRIMARY KEY, total numeric); INSERT INTO invoices SELECT n, n * 1.5 FROM generate_series(1, 200) AS n');
  await owner.end();
  api = await startApiForTests(
    writeManifests({
      'postgres-backup': readFileSync(path.join(PROJECT_ROOT, 'runbooks', 'postgres-backup.yaml'), 'utf8'),
      'ansible-ping': readFileSync(path.join(PROJECT_ROOT, 'runbooks', 'ansible-ping.yaml'), 'utf8'),
      'build-report': shellRunbook('build-report', 'printf "total: 42\\n" > report.txt; mkdir -p logs; echo one > logs/a.log; echo two > logs/b.log', ['report.txt', { path: 'logs/*.log' }]),
      'escape-dotdot': shellRunbook('escape-dotdot', 'echo hi > here.txt', ['here.txt', '../escaped.txt']),
      'escape-symlink': shellRunbook('escape-symlink', 'ln -s /etc/passwd users.txt', ['users.txt']),
      'too-large': shellRunbook('too-large', 'head -c 2097152 /dev/zero > big.bin', ['big.bin']),
      'steps-too-large': shellRunbook('steps-too-large', 'head -c 900000 /dev/zero > a.bin; head -c 900000 /dev/zero > b.bin', ['a.bin', 'b.bin']),
      'hostile-name': shellRunbook('hostile-name', 'echo "not a password file" > note.txt', [{ path: 'note.txt', name: '../../etc/passwd', contentType: 'text/plain' }]),
    }),
    [VIEWER, OPERATOR, OUTSIDER],
    { artifacts: settings },
  );
  const host = new URL(target.url);
  await api.services.connections.create({
    environment: 'dev',
    name: 'billing-db',
    type: 'postgres',
    config: { host: host.hostname, port: Number(host.port || 5432), database: host.pathname.slice(1), user: host.username || 'postgres' },
    secret: 'unused-the-test-server-trusts-local-connections',
  });
}, 180_000);

afterAll(async () => {
  await api?.stop();
  await target?.drop();
});

async function runToEnd(runbook: string, inputs: Record<string, unknown> = {}) {
  const { id } = await api.services.runs.startRun({ runbook, inputs, environment: 'dev', startedBy: OPERATOR.email });
  await api.temporal.workflow
    .getHandle(id)
    .result()
    .catch(() => undefined);
  return api.services.runs.showRun(id);
}

async function get(url: string, user: { email: string; password: string }) {
  const token = await api.logIn(user.email, user.password);
  return api.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
}

interface Listed {
  id: string;
  name: string;
  stepId: string;
  size: number;
  sha256: string;
  contentType: string;
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

describe('artifacts of a postgres-backup run', () => {
  it('publish the dump, which a viewer of the environment downloads with the recorded sha256, and nobody else can list or fetch', async () => {
    const run = await runToEnd('postgres-backup', { connection: 'billing-db', directory: scratchDir(), keep: 2 });
    expect(run.status, run.error).toBe('COMPLETED');

    const listed = await get(`/runs/${encodeURIComponent(run.id)}/artifacts`, VIEWER);
    expect(listed.statusCode, listed.body).toBe(200);
    const artifacts = listed.json() as Listed[];
    expect(artifacts).toHaveLength(1);
    const [dump] = artifacts;
    expect(dump!.stepId).toBe('backup');
    expect(dump!.name).toMatch(/\.dump$/);

    const download = await get(`/runs/${encodeURIComponent(run.id)}/artifacts/${dump!.id}`, VIEWER);
    expect(download.statusCode).toBe(200);
    const bytes = download.rawPayload;
    expect(bytes.length).toBe(dump!.size);
    expect(sha256(bytes)).toBe(dump!.sha256);
    expect(download.headers['x-checksum-sha256']).toBe(dump!.sha256);
    expect(download.headers['content-disposition']).toBe(`attachment; filename="${dump!.name}"`);
    // pg_dump's custom format starts with its magic.
    expect(bytes.subarray(0, 5).toString('latin1')).toBe('PGDMP');

    // Someone with a role in another environment only: neither the list nor the bytes.
    expect((await get(`/runs/${encodeURIComponent(run.id)}/artifacts`, OUTSIDER)).statusCode).toBe(403);
    const refused = await get(`/runs/${encodeURIComponent(run.id)}/artifacts/${dump!.id}`, OUTSIDER);
    expect(refused.statusCode).toBe(403);
    expect(refused.body).not.toContain('PGDMP');

    // The download is in the audit log, with who took it.
    const audited = await api.prisma.auditEntry.findMany({ where: { action: 'run.artifact.download', targetId: run.id } });
    expect(audited.map((entry) => entry.actorEmail)).toContain(VIEWER.email);
  }, 180_000);
});

describe('artifacts of ansible.playbook', () => {
  it('publish the PLAY RECAP as JSON', async () => {
    const run = await runToEnd('ansible-ping', { greeting: 'recap please' });
    expect(run.status, run.error).toBe('COMPLETED');
    const [recap] = (await get(`/runs/${encodeURIComponent(run.id)}/artifacts`, VIEWER)).json() as Listed[];
    expect(recap).toMatchObject({ name: 'ansible-recap.json', contentType: 'application/json', stepId: 'ping' });
    const download = await get(`/runs/${encodeURIComponent(run.id)}/artifacts/${recap!.id}`, VIEWER);
    expect(download.json()).toMatchObject({ playbook: 'ping.yml', exitCode: 0, recap: { localhost: { ok: 2, failed: 0, unreachable: 0 } } });
  }, 120_000);
});

describe('artifacts of shell.run', () => {
  it('publishes the files and globs a step names, with their bytes and sha256', async () => {
    const run = await runToEnd('build-report');
    expect(run.status, run.error).toBe('COMPLETED');
    const artifacts = (await get(`/runs/${encodeURIComponent(run.id)}/artifacts`, VIEWER)).json() as Listed[];
    expect(artifacts.map((artifact) => artifact.name).sort()).toEqual(['logs/a.log', 'logs/b.log', 'report.txt']);
    const report = artifacts.find((artifact) => artifact.name === 'report.txt')!;
    expect(report.contentType).toBe('text/plain; charset=utf-8');
    const download = await get(`/runs/${encodeURIComponent(run.id)}/artifacts/${report.id}`, VIEWER);
    expect(download.body).toBe('total: 42\n');
    expect(report.sha256).toBe(sha256(Buffer.from('total: 42\n')));

    // An object removed behind Jarvis's back: the download says so instead of failing obscurely.
    const lost = artifacts.find((artifact) => artifact.name === 'logs/a.log')!;
    rmSync(path.join(artifactsDir, 'objects', lost.id.slice(0, 2), lost.id));
    const broken = await get(`/runs/${encodeURIComponent(run.id)}/artifacts/${lost.id}`, VIEWER);
    expect(broken.statusCode).toBe(502);
    expect(broken.json().detail).toContain('artifact logs/a.log cannot be read from its store');
  }, 120_000);

  it('refuses a path leading out of the working directory, and publishes nothing of the step', async () => {
    const run = await runToEnd('escape-dotdot');
    expect(run.status).toBe('FAILED');
    expect(run.error).toContain("artifact path ../escaped.txt is outside the step's working directory");
    expect((await get(`/runs/${encodeURIComponent(run.id)}/artifacts`, VIEWER)).json()).toEqual([]);
  }, 120_000);

  it('refuses a symlink pointing outside the working directory', async () => {
    const run = await runToEnd('escape-symlink');
    expect(run.status).toBe('FAILED');
    expect(run.error).toContain("artifact users.txt resolves outside the step's working directory");
    expect((await get(`/runs/${encodeURIComponent(run.id)}/artifacts`, VIEWER)).json()).toEqual([]);
  }, 120_000);

  it('fails a step whose file is over the per-file limit, or whose files are over the per-step limit, saying which limit', async () => {
    const large = await runToEnd('too-large');
    expect(large.status).toBe('FAILED');
    expect(large.error).toContain('artifact big.bin is 2.0 MiB, over the limit of 1.0 MiB per file (JARVIS_ARTIFACTS_MAX_FILE_SIZE)');
    const many = await runToEnd('steps-too-large');
    expect(many.status).toBe('FAILED');
    expect(many.error).toContain("the step's artifacts are 1.7 MiB in all, over the limit of 1.5 MiB per step (JARVIS_ARTIFACTS_MAX_STEP_SIZE)");
    expect((await get(`/runs/${encodeURIComponent(many.id)}/artifacts`, VIEWER)).json()).toEqual([]);
  }, 120_000);

  it('keeps a name like ../../etc/passwd as metadata: the object is stored under its id, and downloads as a plain file name', async () => {
    const passwdBefore = sha256(readFileSync('/etc/passwd'));
    const run = await runToEnd('hostile-name');
    expect(run.status, run.error).toBe('COMPLETED');
    const [artifact] = (await get(`/runs/${encodeURIComponent(run.id)}/artifacts`, VIEWER)).json() as Listed[];
    expect(artifact!.name).toBe('../../etc/passwd');
    expect(sha256(readFileSync('/etc/passwd'))).toBe(passwdBefore);
    // Every object of the store is a file named by an artifact id, two levels under its folder.
    const objects = readdirSync(path.join(artifactsDir, 'objects'), { recursive: true, encoding: 'utf8' }).filter((entry) => statSync(path.join(artifactsDir, 'objects', entry)).isFile());
    expect(objects.length).toBeGreaterThan(0);
    for (const object of objects) expect(object).toMatch(/^[0-9a-f]{2}\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(objects).toContain(`${artifact!.id.slice(0, 2)}/${artifact!.id}`);
    const download = await get(`/runs/${encodeURIComponent(run.id)}/artifacts/${artifact!.id}`, VIEWER);
    expect(download.headers['content-disposition']).toBe('attachment; filename="passwd"');
    expect(download.body).toBe('not a password file\n');
  }, 120_000);
});

describe('the artifact service', () => {
  const origin = { runId: `unit@dev.${randomBytes(4).toString('hex')}`, executionId: 'exec-1', environment: 'dev', stepId: 'make', attempt: 1 };
  const source = (text: string, name = 'out.txt') => ({ name, contentType: 'text/plain', size: Buffer.byteLength(text), open: () => Readable.from([Buffer.from(text)]) });
  let pool: pg.Pool;
  let artifacts: RunArtifacts;
  let folder: string;

  beforeAll(() => {
    pool = new pg.Pool({ connectionString: api.databaseUrl, max: 2 });
    folder = mkdtempSync(path.join(os.tmpdir(), 'jarvis-artifact-unit-'));
    artifacts = new RunArtifacts(pool, new LocalArtifactStore(folder), settings.limits);
  });
  afterAll(async () => {
    await pool?.end();
  });

  it('records an attempt’s artifact once, however often the attempt publishes it', async () => {
    const first = await artifacts.publish(origin, source('hello'));
    const again = await artifacts.publish(origin, source('hello'));
    expect(again.id).toBe(first.id);
    expect((await artifacts.list(origin.runId)).filter((artifact) => artifact.name === 'out.txt')).toHaveLength(1);
    // A reset run (another execution) publishes its own.
    const reset = await artifacts.publish({ ...origin, executionId: 'exec-2' }, source('hello'));
    expect(reset.id).not.toBe(first.id);
  });

  it('records nothing, and keeps no object, when the bytes stop coming mid-upload', async () => {
    const runId = `broken@dev.${randomBytes(4).toString('hex')}`;
    const failing = {
      name: 'half.bin',
      contentType: 'application/octet-stream',
      size: 2 * 65_536,
      open: () =>
        Readable.from(
          (async function* () {
            yield Buffer.alloc(65_536);
            throw new Error('the disk went away');
          })(),
        ),
    };
    const objects = () =>
      readdirSync(folder, { recursive: true, encoding: 'utf8' })
        .filter((entry) => statSync(path.join(folder, entry)).isFile())
        .sort();
    const before = objects();
    await expect(artifacts.publish({ ...origin, runId }, failing)).rejects.toThrow('the disk went away');
    expect(await artifacts.list(runId)).toEqual([]);
    // Neither a whole object nor a partial one is left behind.
    expect(objects()).toEqual(before);
  });

  it('gives what a root worker stores to the owner of the artifacts folder, so the API’s user can read it', async () => {
    if (process.getuid?.() !== 0) return;
    const owned = mkdtempSync(path.join(os.tmpdir(), 'jarvis-artifact-owner-'));
    const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
    chownSync(owned, nobody, nobody);
    const store = new LocalArtifactStore(owned);
    const published = await new RunArtifacts(pool, store, settings.limits).publish({ ...origin, runId: `owned@dev.${randomBytes(4).toString('hex')}` }, source('for the api'));
    expect(statSync(path.join(owned, 'objects', published.id.slice(0, 2), published.id)).uid).toBe(nobody);
    expect(statSync(path.join(owned, 'objects')).uid).toBe(nobody);
  });

  it('deletes a run’s artifacts, objects and rows, and deleting again is harmless', async () => {
    const runId = `gone@dev.${randomBytes(4).toString('hex')}`;
    const published = await artifacts.publish({ ...origin, runId }, source('bye'));
    expect(await artifacts.deleteRunArtifacts(runId)).toBe(1);
    expect(await artifacts.list(runId)).toEqual([]);
    await expect(artifacts.store.get(published.id)).rejects.toThrow(/missing/);
    expect(await artifacts.deleteRunArtifacts(runId)).toBe(0);
  });

  it('sweeps objects a crash left without a row, and keeps recorded ones', async () => {
    const kept = await artifacts.publish({ ...origin, runId: `kept@dev.${randomBytes(4).toString('hex')}` }, source('kept'));
    const orphan = '0f0f0f0f-1111-4222-8333-444444444444';
    mkdirSync(path.join(folder, 'objects', '0f'), { recursive: true });
    writeFileSync(path.join(folder, 'objects', '0f', orphan), 'half a story');
    const old = new Date(Date.now() - 2 * 24 * 3_600_000);
    utimesSync(path.join(folder, 'objects', '0f', orphan), old, old);
    utimesSync(path.join(folder, 'objects', kept.id.slice(0, 2), kept.id), old, old);
    expect(await artifacts.sweepOrphans()).toBe(1);
    await expect(artifacts.store.get(orphan)).rejects.toThrow(/missing/);
    const stream = await artifacts.store.get(kept.id);
    expect(stream.readable).toBe(true);
    stream.destroy();
  });
});
