// `npm run bench:logs`: line-to-client latency of live logs at 1,000 lines/s:
// lines go through the worker's sink (batched inserts and NOTIFY) to a
// WebSocket client of the API, which measures when each arrives.
import WebSocket from 'ws';
import { DatabaseLineSink } from '../logs/database-line-sink.js';
import { startBenchApi } from './api-stack.js';

const LINES_PER_SECOND = Number(process.env.BENCH_LINES_PER_SECOND ?? 1_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);

function emit(metric: string, value: number, unit: string, extra: Record<string, unknown> = {}) {
  console.log(JSON.stringify({ bench: 'logs', metric, value: Math.round(value * 100) / 100, unit, ...extra }));
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

const stack = await startBenchApi({ hold: 'name: hold\ntitle: Hold\nsteps:\n  - id: wait\n    sleep: 10m\n' });
try {
  const { id } = await stack.services.runs.startRun({ runbook: 'hold', inputs: {}, environment: 'dev', startedBy: 'bench@example.org' });
  const ticketResponse = await fetch(`${stack.baseUrl}/runs/${id}/log-ticket`, { method: 'POST', headers: { authorization: `Bearer ${stack.token}` } });
  const { ticket } = (await ticketResponse.json()) as { ticket: string };
  const total = LINES_PER_SECOND * SECONDS;
  const latencies: number[] = [];
  const socket = new WebSocket(`${stack.baseUrl.replace('http', 'ws')}/ws/runs/${id}?ticket=${ticket}`);
  const received = new Promise<void>((resolve) => {
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; lines?: Array<{ text: string }> };
      const now = Date.now();
      for (const line of message.lines ?? []) latencies.push(now - Number(line.text));
      if (latencies.length >= total) resolve();
    });
  });
  await new Promise((resolve) => socket.once('open', resolve));

  const sink = new DatabaseLineSink(stack.services.logStore);
  const step = { runId: id, stepId: 'print', runbook: 'hold', environment: 'dev' };
  const started = Date.now();
  for (let sent = 0; sent < total; ) {
    // Lines are written at the target rate in 10 ms slices, their text being the time they were written.
    const due = Math.min(total, Math.floor(((Date.now() - started) / 1_000) * LINES_PER_SECOND));
    for (; sent < due; sent += 1) sink.write(step, 1, { stream: 'stdout', text: String(Date.now()), at: new Date().toISOString() });
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await sink.flush();
  await Promise.race([received, new Promise((resolve) => setTimeout(resolve, 30_000))]);
  socket.close();
  const extra = { linesPerSecond: LINES_PER_SECOND, seconds: SECONDS, received: latencies.length, sent: total };
  emit('line_to_client_p50', percentile(latencies, 50), 'ms', extra);
  emit('line_to_client_p99', percentile(latencies, 99), 'ms', extra);
  emit('line_to_client_p99_vs_aim', percentile(latencies, 99), 'ms', { aim: '< 100', met: percentile(latencies, 99) < 100 });
  await stack.services.runs.cancelRun(id);
} finally {
  await stack.stop();
}
process.exit(0);
