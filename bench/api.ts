// `npm run bench:api`: authenticated GET /runs (first page, filtered, deep in
// the cursor) and GET /runs/:id of a finished and of a running run, at 50
// connections, with 100,000 runs in the run-summary projection, next to an
// unauthenticated hello-world route of the same server (the baseline). The
// issue's aim: p99 under 50 ms for each, where Temporal visibility answered
// GET /runs at p99 2.6–4 s and a running run's page at p99 570 ms.
import { startBenchApi } from './api-stack.js';
import { emitterFor, sizeFromEnv } from './figures.js';
import { loadTest } from './load.js';

const CONNECTIONS = sizeFromEnv('BENCH_CONNECTIONS', 50);
const SECONDS = sizeFromEnv('BENCH_SECONDS', 10);
const ROWS = sizeFromEnv('BENCH_API_ROWS', 100_000);
const AIM_P99_MS = 50;

const emit = emitterFor('api');

const stack = await startBenchApi(
  {
    quick: 'name: quick\ntitle: Quick\nsteps:\n  - id: a\n    action: core.noop\n  - id: b\n    action: core.noop\n',
    hold: 'name: hold\ntitle: Hold\nsteps:\n  - id: first\n    action: core.noop\n  - id: wait\n    sleep: 1h\n',
  },
  (app) => {
    app.get('/bench/hello', { config: { public: true } }, async () => ({ hello: 'world' }));
  },
);
try {
  const ids: string[] = [];
  for (let index = 0; index < 20; index += 1) {
    ids.push((await stack.services.runs.startRun({ runbook: 'quick', inputs: {}, environment: 'dev', startedBy: 'bench@example.org' })).id);
  }
  for (const id of ids) await stack.client.workflow.getHandle(id).result();
  const running = (await stack.services.runs.startRun({ runbook: 'hold', inputs: {}, environment: 'dev', startedBy: 'bench@example.org' })).id;
  // The running run's row says its sleep has begun: it is read from the projection from then on.
  for (let waited = 0; ; waited += 100) {
    const details = await stack.services.runs.showRun(running);
    if (details.progress?.steps[1]?.status === 'running') break;
    if (waited > 30_000) throw new Error('the running run never reached its sleep');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  // History of a busy installation: runs over 90 days in three environments, a tenth of them failed.
  const loadStarted = performance.now();
  await stack.prisma.$executeRawUnsafe(
    `INSERT INTO run_summaries (workflow_id, execution_id, runbook, version, environment, started_by, status, started_at, ended_at, error, progress, sequence)
     SELECT 'bench-' || n, md5(n::text), (ARRAY['deploy-stack', 'restart-service', 'postgres-backup', 'quick'])[1 + n % 4], 'v1',
            (ARRAY['dev', 'staging', 'prod'])[1 + n % 3], 'user' || (n % 25) || '@example.org',
            CASE WHEN n % 10 = 0 THEN 'failed' ELSE 'succeeded' END,
            now() - make_interval(secs => n * 77.7), now() - make_interval(secs => n * 77.7 - 30),
            CASE WHEN n % 10 = 0 THEN 'step deploy failed: command exited with code 1' END, '{"compensations": []}', 1
     FROM generate_series(1, $1::int) AS n`,
    ROWS,
  );
  await stack.prisma.$executeRawUnsafe('ANALYZE run_summaries');
  emit('projection_rows_loaded', ROWS, 'rows', { seconds: Math.round((performance.now() - loadStarted) / 10) / 100 });

  const auth = { authorization: `Bearer ${stack.token}` };
  // A cursor 1,000 pages deep: keyset paging costs the same there as on the first page.
  let deepCursor = '';
  {
    let url = `${stack.baseUrl}/runs?limit=100`;
    for (let page = 0; page < 10; page += 1) {
      const response = await fetch(url, { headers: auth });
      deepCursor = response.headers.get('x-next-cursor') ?? '';
      url = `${stack.baseUrl}/runs?limit=20&cursor=${deepCursor}`;
    }
  }
  const targets = [
    ['hello_unauthenticated', `${stack.baseUrl}/bench/hello`, {}],
    ['get_runs', `${stack.baseUrl}/runs?limit=20`, auth],
    ['get_runs_filtered', `${stack.baseUrl}/runs?limit=20&runbook=deploy-stack&status=failed`, auth],
    ['get_runs_deep_cursor', `${stack.baseUrl}/runs?limit=20&cursor=${deepCursor}`, auth],
    ['get_run_finished', `${stack.baseUrl}/runs/${ids[0]}`, auth],
    ['get_run_running', `${stack.baseUrl}/runs/${running}`, auth],
  ] as const;
  const results = new Map<string, Awaited<ReturnType<typeof loadTest>>>();
  for (const [name, url, headers] of targets) {
    const result = await loadTest(url, { connections: CONNECTIONS, seconds: SECONDS, headers });
    results.set(name, result);
    const extra = { connections: CONNECTIONS, seconds: SECONDS, rows: ROWS, errors: result.errors, non2xx: result.non2xx };
    emit(`${name}_requests_per_second`, result.requestsPerSecond, 'req/s', extra);
    emit(`${name}_p50`, result.p50Ms, 'ms', extra);
    emit(
      `${name}_p99`,
      result.p99Ms,
      'ms',
      name === 'hello_unauthenticated' ? extra : { ...extra, aim: `< ${AIM_P99_MS}`, met: result.p99Ms < AIM_P99_MS && result.errors === 0 && result.non2xx === 0 },
    );
  }
  const hello = results.get('hello_unauthenticated')!;
  for (const [name] of targets.slice(1)) {
    emit(`${name}_vs_hello_throughput_ratio`, results.get(name)!.requestsPerSecond / hello.requestsPerSecond, 'ratio', { baseline: 'hello_unauthenticated' });
  }
  const finished = results.get('get_run_finished')!;
  const live = results.get('get_run_running')!;
  emit('get_run_running_vs_finished_p50_ratio', live.p50Ms / Math.max(finished.p50Ms, 0.01), 'ratio', { before: 'about 20 (p50 338 ms running)' });
} finally {
  await stack.stop();
}
process.exit(0);
