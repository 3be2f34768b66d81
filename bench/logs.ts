// `npm run bench:logs`: line-to-client latency of live logs at 1,000 lines/s:
// lines go through the worker's sink (batched inserts and NOTIFY) to a
// WebSocket client of the API, which measures when each arrives and counts
// them: the bench exits non-zero when a line is missing, doubled or out of
// order, after printing its figures.
import WebSocket from 'ws';
import { DatabaseLineSink } from '../logs/database-line-sink.js';
import { startBenchApi } from './api-stack.js';
import { emitterFor, sizeFromEnv } from './figures.js';
import { countDelivery, deliveredExactly } from './line-delivery.js';

const LINES_PER_SECOND = sizeFromEnv('BENCH_LINES_PER_SECOND', 1_000);
const SECONDS = sizeFromEnv('BENCH_SECONDS', 10);
const BENCH_STEP = 'print';

const emit = emitterFor('logs');

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/** Resolves once `ready()` holds, or after `timeoutMs`; then waits until nothing arrived for `quietMs` (a late duplicate still counts). */
async function settle(ready: () => boolean, lastArrival: () => number, timeoutMs: number, quietMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  while (Date.now() - lastArrival() < quietMs) await new Promise((resolve) => setTimeout(resolve, 50));
}

const stack = await startBenchApi({ hold: 'name: hold\ntitle: Hold\nsteps:\n  - id: wait\n    sleep: 10m\n' });
let delivered = false;
try {
  const { id } = await stack.services.runs.startRun({ runbook: 'hold', inputs: {}, environment: 'dev', startedBy: 'bench@example.org' });
  const ticketResponse = await fetch(`${stack.baseUrl}/runs/${id}/log-ticket`, { method: 'POST', headers: { authorization: `Bearer ${stack.token}` } });
  const { ticket } = (await ticketResponse.json()) as { ticket: string };
  const total = LINES_PER_SECOND * SECONDS;
  // Each line's text is "<number> <time written>": the number finds lost, doubled and reordered lines.
  const numbers: number[] = [];
  const latencies = new Map<number, number>();
  let lastArrival = Date.now();
  const socket = new WebSocket(`${stack.baseUrl.replace('http', 'ws')}/ws/runs/${id}?ticket=${ticket}`);
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { type: string; lines?: Array<{ stepId: string; text: string }> };
    const now = Date.now();
    if (message.lines?.length) lastArrival = now;
    // The run's own lines (its sleeping step) are not the bench's.
    for (const line of (message.lines ?? []).filter((candidate) => candidate.stepId === BENCH_STEP)) {
      const [number, written] = line.text.split(' ').map(Number) as [number, number];
      numbers.push(number);
      if (!latencies.has(number)) latencies.set(number, now - written);
    }
  });
  await new Promise((resolve) => socket.once('open', resolve));

  const sink = new DatabaseLineSink(stack.services.logStore);
  const step = { runId: id, stepId: BENCH_STEP, runbook: 'hold', environment: 'dev' };
  const started = Date.now();
  for (let sent = 0; sent < total; ) {
    // Lines are written at the target rate in 10 ms slices.
    const due = Math.min(total, Math.floor(((Date.now() - started) / 1_000) * LINES_PER_SECOND));
    for (; sent < due; sent += 1) sink.write(step, 1, { stream: 'stdout', text: `${sent} ${Date.now()}`, at: new Date().toISOString() });
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await sink.flush();
  await settle(() => latencies.size >= total, () => lastArrival, 30_000, 1_000);
  socket.close();
  const count = countDelivery(total, numbers);
  delivered = deliveredExactly(count);
  const values = [...latencies.values()];
  const extra = { linesPerSecond: LINES_PER_SECOND, seconds: SECONDS, sent: count.sent, received: count.received };
  emit('line_to_client_p50', percentile(values, 50), 'ms', extra);
  emit('line_to_client_p99', percentile(values, 99), 'ms', extra);
  emit('line_to_client_p99_vs_aim', percentile(values, 99), 'ms', { aim: '< 100', met: percentile(values, 99) < 100 });
  emit('lines_received', count.received, 'lines', { sent: count.sent });
  emit('lines_missing', count.missing, 'lines', { sent: count.sent, aim: '0', met: count.missing === 0 });
  emit('lines_duplicated', count.duplicated, 'lines', { sent: count.sent, aim: '0', met: count.duplicated === 0 });
  emit('lines_out_of_order', count.outOfOrder, 'lines', { sent: count.sent, aim: '0', met: count.outOfOrder === 0 });
  if (count.unknown > 0) emit('lines_never_sent', count.unknown, 'lines', { aim: '0', met: false });
  if (!delivered) console.error(`bench:logs: lines were lost, doubled or reordered: ${JSON.stringify(count)}`);
  await stack.services.runs.cancelRun(id);
} finally {
  await stack.stop();
}
// A lost, doubled or reordered line fails the bench (after its figures are printed).
process.exit(delivered ? 0 : 1);
