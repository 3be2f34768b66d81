// `npm run bench:web`: from Chromium, the time until a run page is usable
// (hydrated, its step timeline and first log lines shown) for a run of 1,000
// steps with 50,000 log lines and for a 3-step run, the time until all 50,000
// lines are loaded, how long filtering them takes, and the JavaScript the run
// page transfers (compressed). Aim: usable under 1 s, JavaScript under 250 KB.
import type { Page } from 'playwright-core';
import { writeManifests } from '../test/files.js';
import { ADMIN, signIn, startWebStack } from '../test/web-stack.js';
import { emitterFor } from './figures.js';

const STEPS = Number(process.env.BENCH_STEPS ?? 1_000);
const LINES = Number(process.env.BENCH_LOG_LINES ?? 50_000);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 5);

const emit = emitterFor('web');

const big = [
  'name: big-run',
  'title: Many steps and a long log',
  'steps:',
  '  - id: talk',
  '    action: shell.run',
  `    with: { command: 'seq 1 ${LINES} | sed "s/^/log line /"', shell: true }`,
  ...Array.from({ length: STEPS - 1 }, (_, index) => `  - id: step-${index + 1}\n    action: core.noop`),
].join('\n');
const small = ['name: small-run', 'title: Three steps', 'steps:', ...[1, 2, 3].map((index) => `  - id: s${index}\n    action: shell.run\n    with: { command: 'echo step ${index}', shell: true }`)].join('\n');

const stack = await startWebStack(writeManifests({ 'big-run': big, 'small-run': small }));
try {
  const { accessToken } = await stack.api<{ accessToken: string }>('POST', '/auth/login', ADMIN);
  const waitForRun = async (name: string) => {
    const { id } = await stack.api<{ id: string }>('POST', `/runbooks/${name}/execute`, { environment: 'dev' }, accessToken);
    for (;;) {
      const run = await stack.api<{ status: string }>('GET', `/runs/${id}`, undefined, accessToken);
      if (run.status !== 'RUNNING') return { id, status: run.status };
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  };
  const started = Date.now();
  const bigRun = await waitForRun('big-run');
  emit('big_run_duration', Date.now() - started, 'ms', { steps: STEPS, lines: LINES, status: bigRun.status });
  const smallRun = await waitForRun('small-run');

  const measure = async (page: Page, id: string, expectLines: number) => {
    const client = await page.context().newCDPSession(page);
    await client.send('Network.clearBrowserCache');
    const begin = Date.now();
    await page.goto(`${stack.webUrl}/runs/${encodeURIComponent(id)}`);
    await page.waitForSelector('html[data-hydrated=true] .gantt-row');
    await page.waitForSelector('.log-lines .log-line');
    const usable = Date.now() - begin;
    await page.waitForFunction((count) => document.querySelector('[data-testid=log-count]')?.textContent?.replace(/\D/g, '') === String(count), expectLines, { timeout: 120_000 });
    const allLines = Date.now() - begin;
    const javascript = await page.evaluate(() =>
      performance
        .getEntriesByType('resource')
        .filter((entry) => (entry as PerformanceResourceTiming).initiatorType === 'script' || entry.name.endsWith('.js'))
        .reduce((sum, entry) => sum + (entry as PerformanceResourceTiming).encodedBodySize, 0),
    );
    return { usable, allLines, javascript };
  };

  const page = await signIn(stack.browser, stack.webUrl, ADMIN.email, ADMIN.password);
  for (const [name, id, lines] of [
    ['big', bigRun.id, LINES],
    ['small', smallRun.id, 3],
  ] as const) {
    const samples = [];
    for (let sample = 0; sample < SAMPLES; sample += 1) samples.push(await measure(page, id, lines));
    const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const extra = { samples: SAMPLES, steps: name === 'big' ? STEPS : 3, lines };
    emit(`${name}_run_time_to_usable_p50`, median(samples.map((entry) => entry.usable)), 'ms', extra);
    emit(`${name}_run_time_to_all_log_lines_p50`, median(samples.map((entry) => entry.allLines)), 'ms', extra);
    emit(`${name}_run_javascript_transferred`, samples[0]!.javascript / 1024, 'KB', { ...extra, compressed: true });
    if (name === 'big') {
      // Responsiveness with every line loaded: filter the 50,000 lines.
      const begin = Date.now();
      await page.fill('#log-search', 'line 49999');
      await page.waitForFunction(() => document.querySelector('[data-testid=log-count]')?.textContent?.replace(/\D/g, '') === '1');
      emit('big_run_log_filter', Date.now() - begin, 'ms', extra);
      const usable = median(samples.map((entry) => entry.usable));
      emit('big_run_time_to_usable_vs_aim', usable, 'ms', { aim: '< 1000', met: usable < 1_000 });
      emit('run_page_javascript_vs_aim', samples[0]!.javascript / 1024, 'KB', { aim: '< 250', met: samples[0]!.javascript / 1024 < 250 });
    }
  }
} finally {
  await stack.stop();
}
process.exit(0);
