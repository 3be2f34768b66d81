// Run reports from the projection: exact figures for a known set of runs,
// CSV and PDF exports (read back with poppler's pdfinfo and pdftotext), in
// both languages, and nothing of an environment the caller cannot read.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportToPdf } from '../runs/run-report-export.js';
import type { RunbookReport } from '../runs/run-report.js';
import { RunSummaryStore } from '../runs/run-summary-store.js';
import type { RunStatus, StepProgress } from '../workflows/messages.js';
import { startApiForTests } from './api-harness.js';
import { scratchDir, writeManifests } from './harness.js';
import { runCli } from './processes.js';

const PASSWORD = 'correct horse battery staple';
const HOUR = 3_600_000;

let api: Awaited<ReturnType<typeof startApiForTests>>;
let pool: pg.Pool;
let prodViewer: string;
let devViewer: string;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jarvis-reports-'));
// Two days ago, on a whole second, so every figure below is exact.
const base = Math.floor((Date.now() - 2 * 24 * HOUR) / 1000) * 1000;
const at = (offsetMs: number) => new Date(base + offsetMs).toISOString();
let sequence = 0;

interface KnownRun {
  runbook?: string;
  environment?: string;
  start: number;
  durationMs: number;
  status: RunStatus;
  failedStep?: string;
  /** The approval step's wait, from its start (a second after the run's) to its decision. */
  approvalWaitMs?: number;
}

async function recordRun(run: KnownRun): Promise<void> {
  const id = `report-${(sequence += 1)}`;
  const steps: StepProgress[] = [];
  if (run.approvalWaitMs !== undefined) {
    const decision = { user: 'pablo@example.org', at: at(run.start + 1000 + run.approvalWaitMs) };
    const rejected = run.status === 'rejected';
    steps.push({
      id: 'gate',
      kind: 'approval',
      status: rejected ? 'rejected' : 'succeeded',
      attempts: 0,
      startedAt: at(run.start + 1000),
      endedAt: decision.at,
      approval: { role: 'approver', required: 1, allowStarter: false, approvedBy: rejected ? [] : [decision], ...(rejected ? { rejectedBy: { ...decision, reason: 'not now' } } : {}) },
    });
  }
  for (const stepId of new Set(['migrate', 'smoke', ...(run.failedStep ? [run.failedStep] : [])])) {
    const failed = run.failedStep === stepId;
    steps.push({
      id: stepId,
      kind: 'action',
      action: 'core.noop',
      status: failed ? 'failed' : run.status === 'succeeded' ? 'succeeded' : 'skipped',
      attempts: 1,
      ...(failed ? { error: 'boom' } : {}),
    });
  }
  await new RunSummaryStore(pool).record({
    workflowId: id,
    executionId: `${id}-execution`,
    sequence: 1,
    complete: true,
    run: {
      runbook: run.runbook ?? 'deploy',
      version: 'v1',
      environment: run.environment ?? 'prod',
      startedBy: 'olga@example.org',
      status: run.status,
      startedAt: at(run.start),
      endedAt: at(run.start + run.durationMs),
      compensations: [],
    },
    steps: steps.map((step, position) => ({ position, step })),
  });
}

async function get(url: string, token: string) {
  return api.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
}

function pdfText(pdf: Buffer, name: string): { pages: number; text: string } {
  const file = path.join(dir, name);
  fs.writeFileSync(file, pdf);
  const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
  const pages = Number(/^Pages:\s+(\d+)/m.exec(info)?.[1]);
  return { pages, text: execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' }) };
}

beforeAll(async () => {
  api = await startApiForTests(writeManifests({}), [
    { email: 'olga@example.org', password: PASSWORD, grants: [['prod', 'viewer']] },
    { email: 'victor@example.org', password: PASSWORD, grants: [['dev', 'viewer']] },
  ]);
  pool = new pg.Pool({ connectionString: api.databaseUrl, max: 2 });
  // deploy in prod: durations 10..60 s and 100 s; failures at 1 h and 2 h recover at 3 h 40 s, the one at 4 h never does.
  const known: KnownRun[] = [
    { start: 0, durationMs: 10_000, status: 'succeeded', approvalWaitMs: 4_000 },
    { start: 1 * HOUR, durationMs: 20_000, status: 'failed', failedStep: 'migrate' },
    { start: 2 * HOUR, durationMs: 30_000, status: 'failed', failedStep: 'migrate' },
    { start: 3 * HOUR, durationMs: 40_000, status: 'succeeded', approvalWaitMs: 8_000 },
    { start: 4 * HOUR, durationMs: 50_000, status: 'failed', failedStep: 'smoke' },
    { start: 5 * HOUR, durationMs: 60_000, status: 'cancelled' },
    { start: 6 * HOUR, durationMs: 100_000, status: 'rejected', approvalWaitMs: 90_000 },
    { runbook: 'backup', start: 7 * HOUR, durationMs: 5_000, status: 'succeeded' },
    // Outside a 7-day range.
    { start: -10 * 24 * HOUR, durationMs: 1_000, status: 'failed', failedStep: 'migrate' },
    // Another environment: its viewer sees it, prod's does not.
    { environment: 'dev', start: HOUR, durationMs: 2_000, status: 'failed', failedStep: 'dev-only-step' },
  ];
  for (const run of known) await recordRun(run);
  prodViewer = await api.logIn('olga@example.org', PASSWORD);
  devViewer = await api.logIn('victor@example.org', PASSWORD);
}, 120_000);

afterAll(async () => {
  await pool?.end();
  await api?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('GET /reports/runs', () => {
  it('computes counts, success rate, percentiles, time to recovery, failures by step and approval waiting exactly', async () => {
    const response = await get('/reports/runs?range=7d', prodViewer);
    expect(response.statusCode).toBe(200);
    const { rows } = response.json() as { rows: RunbookReport[] };
    expect(rows.map((row) => `${row.runbook}/${row.environment}`)).toEqual(['backup/prod', 'deploy/prod']);
    expect(rows[1]).toEqual({
      runbook: 'deploy',
      environment: 'prod',
      runs: 7,
      running: 0,
      succeeded: 2,
      failed: 3,
      cancelled: 1,
      rejected: 1,
      successRate: 2 / 7,
      p50Ms: 40_000,
      // percentile_cont: 60 s + 0.7 × (100 s − 60 s)
      p95Ms: 88_000,
      // (2 h 20 s + 1 h 10 s) / 2
      mttrMs: (2 * HOUR + 20_000 + HOUR + 10_000) / 2,
      recovered: 2,
      failuresByStep: [
        { stepId: 'migrate', count: 2 },
        { stepId: 'smoke', count: 1 },
      ],
      // mean of 4, 8 and 90 s; p95: 8 s + 0.9 × (90 s − 8 s)
      approvalWaiting: { decided: 3, meanMs: 34_000, p95Ms: 81_800 },
    });
    expect(rows[0]).toMatchObject({ runs: 1, succeeded: 1, successRate: 1, p50Ms: 5_000, mttrMs: null, recovered: 0, failuresByStep: [], approvalWaiting: { decided: 0, meanMs: null } });
  });

  it('counts the runs of a longer range and filters by runbook', async () => {
    const { rows } = (await get('/reports/runs?range=30d&runbook=deploy', prodViewer)).json() as { rows: RunbookReport[] };
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      runbook: 'deploy',
      runs: 8,
      failed: 4,
      failuresByStep: [
        { stepId: 'migrate', count: 3 },
        { stepId: 'smoke', count: 1 },
      ],
    });
  });

  it('shows a viewer nothing of an environment they hold no role in', async () => {
    const prod = (await get('/reports/runs?range=7d', prodViewer)).json() as { rows: RunbookReport[] };
    expect(prod.rows.every((row) => row.environment === 'prod')).toBe(true);
    const dev = (await get('/reports/runs?range=7d', devViewer)).json() as { rows: RunbookReport[] };
    expect(dev.rows).toMatchObject([{ runbook: 'deploy', environment: 'dev', runs: 1, failuresByStep: [{ stepId: 'dev-only-step', count: 1 }] }]);
    expect((await get('/reports/runs?range=7d&environment=prod', devViewer)).statusCode).toBe(403);
    const csv = (await get('/reports/runs?range=7d&format=csv', devViewer)).body;
    expect(csv).not.toContain('prod');
    const { text } = pdfText((await get('/reports/runs?range=7d&format=pdf', prodViewer)).rawPayload, 'prod-only.pdf');
    expect(text).not.toContain('dev-only-step');
  });

  it('exports CSV with a header row and one row per runbook and environment', async () => {
    const response = await get('/reports/runs?range=7d&format=csv', prodViewer);
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.headers['content-disposition']).toMatch(/^attachment; filename="jarvis-runs-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv"$/);
    expect(response.body.split('\r\n')).toEqual([
      'runbook,environment,runs,succeeded,failed,cancelled,rejected,success_rate,p50_ms,p95_ms,mttr_ms,approval_wait_mean_ms,approval_wait_p95_ms,failures_by_step',
      'backup,prod,1,1,0,0,0,1,5000,5000,,,,',
      'deploy,prod,7,2,3,1,1,0.2857,40000,88000,5415000,34000,81800,migrate:2 smoke:1',
      '',
    ]);
  });

  it('exports a one-page PDF with the title, the range and the figures per runbook', async () => {
    const response = await get('/reports/runs?range=7d&format=pdf', prodViewer);
    expect(response.headers['content-type']).toBe('application/pdf');
    const { pages, text } = pdfText(response.rawPayload, 'en.pdf');
    expect(pages).toBe(1);
    expect(text).toContain('Run report');
    expect(text).toMatch(/From \d{4}-\d{2}-\d{2} \d{2}:\d{2} to \d{4}-\d{2}-\d{2} \d{2}:\d{2} \(UTC\)/);
    expect(text).toMatch(/Success rate/);
    expect(text).toMatch(/deploy\s+prod\s+7\s+2\s+3\s+28\.6%\s+40\.0 s\s+1\.5 min\s+1\.5 h\s+34\.0 s/);
    expect(text).toMatch(/backup\s+prod\s+1\s+1\s+0\s+100\.0%\s+5\.0 s/);
    expect(text).toContain('migrate × 2, smoke × 1');
  });

  it('writes the PDF in Portuguese when asked', async () => {
    const { pages, text } = pdfText((await get('/reports/runs?range=7d&format=pdf&lang=pt-BR', prodViewer)).rawPayload, 'pt-BR.pdf');
    expect(pages).toBe(1);
    for (const label of ['Relatório de execuções', 'Ambiente', 'Execuções', 'Taxa de', 'Espera por aprovação', 'Duração p95', 'Falhas por passo']) expect(text).toContain(label);
    expect(text).not.toContain('Success rate');
  });

  it('answers 401 without a token', async () => {
    expect((await api.app.inject({ method: 'GET', url: '/reports/runs?format=pdf' })).statusCode).toBe(401);
  });

  it('refuses a range that is both named and given', async () => {
    expect((await get(`/reports/runs?range=7d&from=${encodeURIComponent(at(0))}`, prodViewer)).statusCode).toBe(400);
    expect((await get(`/reports/runs?from=${encodeURIComponent(at(HOUR))}&to=${encodeURIComponent(at(0))}`, prodViewer)).statusCode).toBe(400);
  });
});

describe('the PDF export', () => {
  it('continues the table on further pages when runbooks do not fit on one', async () => {
    const row = (index: number): RunbookReport => ({
      runbook: `runbook-${index}`,
      environment: 'prod',
      runs: 1,
      running: 0,
      succeeded: 1,
      failed: 0,
      cancelled: 0,
      rejected: 0,
      successRate: 1,
      p50Ms: 1000,
      p95Ms: 1000,
      mttrMs: null,
      recovered: 0,
      failuresByStep: [],
      approvalWaiting: { decided: 0, meanMs: null, p95Ms: null },
    });
    const report = { from: at(0), to: at(HOUR), rows: Array.from({ length: 80 }, (_, index) => row(index)) };
    const { pages, text } = pdfText(await reportToPdf(report, 'en'), 'long.pdf');
    expect(pages).toBeGreaterThan(1);
    expect(text).toContain('runbook-0');
    expect(text).toContain('runbook-79');
    // The header again on every page.
    expect(text.match(/Runbook\s+Environment\s+Runs/g)).toHaveLength(pages);
  });
});

describe('jarvis report', () => {
  let cliEnv: Record<string, string>;
  beforeAll(async () => {
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    cliEnv = { JARVIS_DATA_DIR: scratchDir(), JARVIS_API_URL: `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`, JARVIS_API_TOKEN: prodViewer };
  });

  it('prints the figures per runbook as a table', async () => {
    const { code, stdout } = await runCli(['report', '--range', '7d'], cliEnv);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^RUNBOOK\s+ENVIRONMENT\s+RUNS\s+SUCCEEDED\s+FAILED\s+SUCCESS\s+P50\s+P95\s+MTTR/m);
    expect(stdout).toMatch(/^deploy\s+prod\s+7\s+2\s+3\s+28\.6%\s+40\.0 s\s+1\.5 min\s+1\.5 h\s+34\.0 s\s+migrate:2 smoke:1$/m);
  });

  it('exports CSV to standard output and a PDF to a file, and refuses a PDF without --out', async () => {
    const csv = await runCli(['report', '--range', '7d', '--env', 'prod', '--runbook', 'deploy', '--format', 'csv'], cliEnv);
    expect(csv.stdout.split('\r\n').slice(1)).toEqual(['deploy,prod,7,2,3,1,1,0.2857,40000,88000,5415000,34000,81800,migrate:2 smoke:1', '']);
    const refused = await runCli(['report', '--format', 'pdf'], cliEnv);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('needs --out');
    const out = path.join(dir, 'cli.pdf');
    expect((await runCli(['report', '--range', '7d', '--format', 'pdf', '--lang', 'pt-BR', '--out', out], cliEnv)).code).toBe(0);
    const { pages, text } = pdfText(fs.readFileSync(out), 'cli-copy.pdf');
    expect(pages).toBe(1);
    expect(text).toContain('Relatório de execuções');
  });

  it('answers forbidden for an environment the caller holds no role in', async () => {
    expect((await runCli(['report', '--env', 'dev'], cliEnv)).code).toBe(5);
  });
});
