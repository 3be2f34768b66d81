// Bulk actions on runs through the API and the CLI: selection by filter in
// the caller's executable environments, one result and one audit entry per
// run, dry runs, idempotent retries.
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiForTests } from './api-harness.js';
import { scratchDir, writeManifests } from './harness.js';
import { resumableRunbook } from './files.js';
import { runCli, type ProcessEnv } from './processes.js';
import { waitFor } from './wait.js';

const PASSWORD = 'correct horse battery staple';
// The Temporal server is shared by the suite: names of this file only, so filters select its runs alone.
const suffix = Date.now().toString(36);
const FLAKY = `bulk-flaky-${suffix}`;
const GATED = `bulk-gated-${suffix}`;
const RESUMABLE = `bulk-resumable-${suffix}`;

const manifests = {
  [FLAKY]: `
name: ${FLAKY}
title: Fails unless told to pass
inputs: { type: object, properties: { mode: { type: string } }, required: [mode] }
steps:
  - id: check
    action: shell.run
    with: { command: 'test "$1" = pass || { echo "told to fail"; exit 1; }', shell: true, args: ["\${{ inputs.mode }}"] }
    retry: { maxAttempts: 1 }
`,
  [RESUMABLE]: resumableRunbook(RESUMABLE),
  [GATED]: `
name: ${GATED}
title: Waits for an approval
steps:
  - id: gate
    approval: { role: approver }
`,
};

interface BulkAnswer {
  id: string;
  action: string;
  dryRun: boolean;
  selected: number;
  results: Array<{ runId: string; ok: boolean; newRunId?: string; replayed?: boolean; error?: string; status: string }>;
}

let api: Awaited<ReturnType<typeof startApiForTests>>;
let operator: string;
let viewer: string;
const failedIds: string[] = [];
let passedId = '';

async function bulk(token: string, body: unknown, key?: string) {
  return api.app.inject({ method: 'POST', url: '/runs/bulk', headers: { authorization: `Bearer ${token}`, ...(key ? { 'idempotency-key': key } : {}) }, payload: body as object });
}

const flakyRuns = () => api.services.runs.listRuns({ runbook: FLAKY, limit: 100 });

async function settled(id: string): Promise<void> {
  await api.temporal.workflow
    .getHandle(id)
    .result()
    .catch(() => undefined);
}

beforeAll(async () => {
  api = await startApiForTests(writeManifests(manifests), [
    { email: 'olga@example.org', password: PASSWORD, grants: [['dev', 'operator']] },
    { email: 'vic@example.org', password: PASSWORD, grants: [['dev', 'viewer']] },
  ]);
  operator = await api.logIn('olga@example.org', PASSWORD);
  viewer = await api.logIn('vic@example.org', PASSWORD);
  for (const mode of ['fail', 'fail', 'fail', 'pass']) {
    const { id } = await api.services.runs.startRun({ runbook: FLAKY, inputs: { mode }, environment: 'dev', startedBy: 'olga@example.org' });
    if (mode === 'fail') failedIds.push(id);
    else passedId = id;
  }
  for (const id of [...failedIds, passedId]) await settled(id);
  await waitFor(async () => (await api.services.runs.listRuns({ runbook: FLAKY, status: 'failed' })).length === 3, { message: 'the failed runs to be listed' });
}, 120_000);

afterAll(async () => api?.stop());

describe('bulk actions on runs', () => {
  it('refuses a viewer', async () => {
    const response = await bulk(viewer, { action: 'rerun', filter: { runbook: FLAKY, status: 'failed' } });
    expect(response.statusCode).toBe(403);
    const scoped = await bulk(operator, { action: 'rerun', filter: { runbook: FLAKY, environment: 'prod' } });
    expect(scoped.statusCode).toBe(403);
  });

  it('lists what a dry run would touch and starts nothing', async () => {
    const response = await bulk(operator, { action: 'rerun', filter: { runbook: FLAKY, status: 'failed' }, dryRun: true });
    expect(response.statusCode).toBe(200);
    const answer = response.json<BulkAnswer>();
    expect(answer.dryRun).toBe(true);
    expect(answer.results.map((result) => result.runId).sort()).toEqual([...failedIds].sort());
    expect(answer.results.every((result) => result.newRunId === undefined)).toBe(true);
    expect(await flakyRuns()).toHaveLength(4);
    expect(await api.prisma.auditEntry.count({ where: { action: 'run.bulk.rerun' } })).toBe(0);
  });

  it('re-runs exactly the failed runs, once per run even when the request is retried, and audits each', async () => {
    const body = { action: 'rerun', filter: { runbook: FLAKY, status: 'failed' } };
    const first = await bulk(operator, body, 'rerun-failed-1');
    expect(first.statusCode).toBe(200);
    const answer = first.json<BulkAnswer>();
    expect(answer.selected).toBe(3);
    expect(answer.results.every((result) => result.ok && result.newRunId)).toBe(true);
    const rerunOf = await Promise.all(answer.results.map(async (result) => (await api.services.runs.showRun(result.newRunId!)).rerunOf));
    expect(rerunOf.sort()).toEqual([...failedIds].sort());
    expect(answer.results.map((result) => result.runId)).not.toContain(passedId);

    const audit = await api.prisma.auditEntry.findMany({ where: { action: 'run.bulk.rerun' } });
    expect(audit.map((entry) => entry.targetId).sort()).toEqual([...failedIds].sort());
    expect(audit.every((entry) => (entry.details as { bulkId?: string }).bulkId === answer.id && entry.actorEmail === 'olga@example.org')).toBe(true);
    const request = await api.prisma.auditEntry.findFirstOrThrow({ where: { action: 'POST /runs/bulk', targetId: answer.id } });
    expect(request.outcome).toBe('success');

    // The re-runs fail too: a retry sees them among the failed runs, and re-runs neither them nor the originals again.
    for (const result of answer.results) await settled(result.newRunId!);
    await waitFor(async () => (await api.services.runs.listRuns({ runbook: FLAKY, status: 'failed' })).length === 6, { message: 'the re-runs to be listed as failed' });
    const retry = (await bulk(operator, body, 'rerun-failed-1')).json<BulkAnswer>();
    expect(retry.id).toBe(answer.id);
    expect(retry.results.map((result) => [result.runId, result.newRunId, result.replayed]).sort()).toEqual(answer.results.map((result) => [result.runId, result.newRunId, true]).sort());
    expect(await flakyRuns()).toHaveLength(7);
  }, 120_000);

  it('cancels the running runs a filter selects', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 2; index += 1) ids.push((await api.services.runs.startRun({ runbook: GATED, inputs: {}, environment: 'dev', startedBy: 'olga@example.org' })).id);
    await waitFor(async () => (await api.services.runs.listRuns({ runbook: GATED, status: 'running' })).length === 2, { message: 'the gated runs to be listed' });
    const answer = (await bulk(operator, { action: 'cancel', filter: { runbook: GATED, status: 'running' } })).json<BulkAnswer>();
    expect(answer.results.map((result) => [result.runId, result.ok]).sort()).toEqual(ids.map((id) => [id, true]).sort());
    for (const id of ids) await waitFor(async () => (await api.temporal.workflow.getHandle(id).describe()).status.name === 'CANCELLED', { message: `run ${id} to be cancelled` });
  }, 60_000);

  it('resumes the failed runs a filter selects from their failed step', async () => {
    const flag = path.join(scratchDir(), 'flag');
    const ids: string[] = [];
    for (let index = 0; index < 2; index += 1) ids.push((await api.services.runs.startRun({ runbook: RESUMABLE, inputs: { flag }, environment: 'dev', startedBy: 'olga@example.org' })).id);
    for (const id of ids) await settled(id);
    await waitFor(async () => (await api.services.runs.listRuns({ runbook: RESUMABLE, status: 'failed' })).length === 2, { message: 'the resumable runs to be listed as failed' });
    writeFileSync(flag, 'present');
    const answer = (await bulk(operator, { action: 'resume', filter: { runbook: RESUMABLE, status: 'failed' } })).json<BulkAnswer>();
    expect(answer.results.map((result) => [result.runId, result.ok]).sort()).toEqual(ids.map((id) => [id, true]).sort());
    for (const id of ids) await waitFor(async () => (await api.temporal.workflow.getHandle(id).describe()).status.name === 'COMPLETED', { message: `run ${id} to complete after its resume` });
  }, 60_000);

  it('acts on exactly the runs named by id, refusing unknown ones', async () => {
    const { id } = await api.services.runs.startRun({ runbook: GATED, inputs: {}, environment: 'dev', startedBy: 'olga@example.org' });
    const answer = (await bulk(operator, { action: 'cancel', runIds: [id, id] })).json<BulkAnswer>();
    expect(answer.results.map((result) => [result.runId, result.ok])).toEqual([[id, true]]);
    await waitFor(async () => (await api.temporal.workflow.getHandle(id).describe()).status.name === 'CANCELLED', { message: `run ${id} to be cancelled` });
    expect((await bulk(operator, { action: 'cancel', runIds: [`${GATED}@dev.nope`] })).statusCode).toBe(404);
    expect((await bulk(viewer, { action: 'cancel', runIds: [id] })).statusCode).toBe(403);
    expect((await bulk(operator, { action: 'cancel' })).statusCode).toBe(400);
  }, 60_000);

  it('acts through the CLI with --filter, printing a result per run and exiting 1 when one failed', async () => {
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    const apiUrl = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
    const olga: ProcessEnv = { JARVIS_DATA_DIR: scratchDir() };
    expect((await runCli(['login', '--api', apiUrl, '--email', 'olga@example.org'], olga, `${PASSWORD}\n`)).code).toBe(0);

    const dry = await runCli(['run', 'rerun', '--filter', `status=failed,runbook=${FLAKY}`, '--env', 'dev', '--since', '24h', '--dry-run', '-o', 'json'], olga);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout).selected).toBe(6);

    // Cancelling finished runs fails for each: a result per run, and exit code 1.
    const cancel = await runCli(['run', 'cancel', '--filter', `runbook=${FLAKY},status=failed`, '--limit', '2'], olga);
    expect(cancel.code).toBe(1);
    expect(cancel.stdout).toContain('already failed');
    expect(cancel.stdout).toMatch(/Cancelled 0 of 2 runs; 2 failed/);

    const none = await runCli(['run', 'rerun'], olga);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain('give a run id or --filter');
  }, 120_000);
});
