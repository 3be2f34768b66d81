// The embedded default (no DATABASE_URL: PGlite under the data directory)
// carries a burst of failures: 20 runs fail at once while clients read the run
// list and each run. Every failure reaches the knowledge base with its own
// error, no read answers 5xx, and every start is audited. On the shared
// single-backend PGlite, connections that interleave their messages lose
// exactly these (issue 13).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KnowledgeStore } from '../ai/knowledge-store.js';
import { LocalEmbedder } from '../ai/local-embedder.js';
import { reportIdleConnectionError } from '../db/pool-errors.js';
import { startApiForTests } from './api-harness.js';
import { writeManifests } from './harness.js';
import { waitFor } from './wait.js';

const PASSWORD = 'correct horse battery staple';
const RUNS = 20;

const failing = `
name: disk-check
title: Checks a disk and fails with what it found
environments: [prod]
inputs:
  type: object
  properties:
    disk: { type: integer }
steps:
  - id: check
    action: shell.run
    with:
      command: 'echo "checking disk $1"; echo "disk $1 is full" >&2; exit 3'
      shell: true
      args: ["\${{ inputs.disk }}"]
    retry: { maxAttempts: 1 }
`;

let api: Awaited<ReturnType<typeof startApiForTests>>;
let operator: Record<string, string>;
let viewer: Record<string, string>;
let pool: pg.Pool;

beforeAll(async () => {
  api = await startApiForTests(
    writeManifests({ 'disk-check': failing }),
    [
      { email: 'olga@example.org', password: PASSWORD, grants: [['prod', 'operator']] },
      { email: 'vic@example.org', password: PASSWORD, grants: [['prod', 'viewer']] },
    ],
    { embedded: true },
  );
  operator = { authorization: `Bearer ${await api.logIn('olga@example.org', PASSWORD)}` };
  viewer = { authorization: `Bearer ${await api.logIn('vic@example.org', PASSWORD)}` };
  pool = new pg.Pool({ connectionString: api.databaseUrl, max: 2 });
  pool.on('error', reportIdleConnectionError);
}, 120_000);

afterAll(async () => {
  await pool?.end();
  await api?.stop();
});

const until = <T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 90_000): Promise<T> =>
  waitFor(probe, { message: what, timeoutMs }) as Promise<T>;

describe('the embedded default database', () => {
  it('ingests every one of 20 simultaneous failures with its own error while clients read runs, and audits every start', async () => {
    const answers: Array<{ url: string; status: number; body: string }> = [];
    const get = async (url: string) => {
      const answer = await api.app.inject({ method: 'GET', url, headers: viewer });
      answers.push({ url, status: answer.statusCode, body: answer.body });
      return answer;
    };

    const started = await Promise.all(
      Array.from({ length: RUNS }, async (_, disk) => {
        const answer = await api.app.inject({ method: 'POST', url: '/runbooks/disk-check/execute', headers: operator, payload: { environment: 'prod', inputs: { disk } } });
        answers.push({ url: 'POST /runbooks/disk-check/execute', status: answer.statusCode, body: answer.body });
        expect(answer.statusCode, answer.body).toBe(201);
        return { disk, id: answer.json<{ id: string }>().id };
      }),
    );

    // Readers of the list and of every run, for as long as the runs are failing.
    let failing = true;
    const readers = Array.from({ length: 4 }, async (_, reader) => {
      while (failing) {
        await get('/runs?limit=50');
        for (const { id } of started.filter((_, i) => i % 4 === reader)) if (failing) await get(`/runs/${id}`);
      }
    });
    // One poller, and readers awaited even when the wait fails: nothing is left asking a closed API.
    const failed = new Map<string, { status: string; error?: string; steps: Array<{ error?: string }> }>();
    const allFailed = until('every run to fail', async () => {
      for (const { id } of started.filter(({ id }) => !failed.has(id))) {
        const answer = await get(`/runs/${id}`);
        const progress = answer.statusCode === 200 ? answer.json<{ progress?: { status: string; error?: string; steps: Array<{ error?: string }> } }>().progress : undefined;
        if (progress?.status === 'failed') failed.set(id, progress);
      }
      return failed.size === RUNS;
    });
    try {
      await allFailed;
    } finally {
      failing = false;
      await Promise.allSettled(readers);
    }
    const runs = started.map(({ disk, id }) => ({ disk, id, details: failed.get(id)! }));

    expect(answers.filter((answer) => answer.status >= 500)).toEqual([]);
    for (const { disk, details } of runs) expect(details.steps[0]?.error).toBe(`command exited with code 3: disk ${disk} is full`);

    const knowledge = new KnowledgeStore(pool, new LocalEmbedder());
    for (const { disk, id } of runs) {
      const [document, ...more] = await until(`run ${id} to be ingested`, async () => {
        const documents = await knowledge.documentsOfRun(id, ['failed_run']);
        return documents.length > 0 ? documents : undefined;
      });
      expect(more).toEqual([]);
      expect(document?.metadata.error).toBe(`command exited with code 3: disk ${disk} is full`);
    }

    const audited = await api.prisma.auditEntry.findMany({ where: { action: 'POST /runbooks/:name/execute' } });
    expect(audited.map((entry) => entry.outcome)).toEqual(Array(RUNS).fill('success'));
    expect(audited.map((entry) => entry.targetId).sort()).toEqual(runs.map((run) => run.id).sort());
    // The bound leaves room for a machine busy with other suites.
  }, 180_000);
});
