// `npm run bench:api`: authenticated GET /runs and GET /runs/:id at 50
// connections, next to an unauthenticated hello-world route of the same server.
import { startBenchApi } from './api-stack.js';
import { loadTest } from './load.js';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);

function emit(metric: string, value: number, unit: string, extra: Record<string, unknown> = {}) {
  console.log(JSON.stringify({ bench: 'api', metric, value: Math.round(value * 100) / 100, unit, ...extra }));
}

const stack = await startBenchApi({ quick: 'name: quick\ntitle: Quick\nsteps:\n  - id: a\n    action: core.noop\n  - id: b\n    action: core.noop\n' }, (app) => {
  app.get('/bench/hello', { config: { public: true } }, async () => ({ hello: 'world' }));
});
try {
  // A few completed runs so the list and the run page have something to read.
  const ids: string[] = [];
  for (let index = 0; index < 20; index += 1) {
    const started = await stack.services.runs.startRun({ runbook: 'quick', inputs: {}, environment: 'dev', startedBy: 'bench@example.org' });
    ids.push(started.id);
  }
  for (const id of ids) await stack.client.workflow.getHandle(id).result();
  const auth = { authorization: `Bearer ${stack.token}` };
  const hello = await loadTest(`${stack.baseUrl}/bench/hello`, { connections: CONNECTIONS, seconds: SECONDS });
  const list = await loadTest(`${stack.baseUrl}/runs?limit=20`, { connections: CONNECTIONS, seconds: SECONDS, headers: auth });
  const one = await loadTest(`${stack.baseUrl}/runs/${ids[0]}`, { connections: CONNECTIONS, seconds: SECONDS, headers: auth });
  for (const [name, result] of [['hello_unauthenticated', hello], ['get_runs', list], ['get_run', one]] as const) {
    const extra = { connections: CONNECTIONS, seconds: SECONDS, errors: result.errors, non2xx: result.non2xx };
    emit(`${name}_requests_per_second`, result.requestsPerSecond, 'req/s', extra);
    emit(`${name}_p50`, result.p50Ms, 'ms', extra);
    emit(`${name}_p99`, result.p99Ms, 'ms', extra);
  }
  emit('get_runs_vs_hello_throughput_ratio', list.requestsPerSecond / hello.requestsPerSecond, 'ratio', { baseline: 'hello_unauthenticated' });
  emit('get_run_vs_hello_throughput_ratio', one.requestsPerSecond / hello.requestsPerSecond, 'ratio', { baseline: 'hello_unauthenticated' });
  emit('get_run_p99_vs_aim', one.p99Ms, 'ms', { aim: '< 50', met: one.p99Ms < 50 });
} finally {
  await stack.stop();
}
process.exit(0);
