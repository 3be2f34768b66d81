// `npm run bench:schedules`: 100 schedules due at the same instant. For each
// fire: how late Temporal started the fire's workflow (Temporal's own
// lateness, the baseline, measured in the same run) and how late the run
// itself started (after the API's control worker checked the owner and signed
// the start). Prints p50/p99 of both and the share Jarvis adds; then, for
// the notification each run's success sends to a (local) Slack channel, the
// time from the event to its delivery.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startBenchApi } from './api-stack.js';
import { emitterFor } from './figures.js';

const SCHEDULES = Number(process.env.BENCH_SCHEDULES ?? 100);
const EVERY_SECONDS = 20;

const emit = emitterFor('schedules');

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))] ?? Number.NaN;
}

const stack = await startBenchApi({ quick: 'name: quick\ntitle: Quick\nsteps:\n  - id: a\n    action: core.noop\n' });
const { services } = stack;
try {
  // Every run's success goes to a Slack channel (a local server speaking Slack's incoming-webhook API).
  const received: number[] = [];
  const slack = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      received.push(Date.now());
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => slack.listen(0, '127.0.0.1', resolve));
  const slackUrl = `http://127.0.0.1:${(slack.address() as AddressInfo).port}/hooks/bench`;
  await services.egressAllowlists.replace('dev', ['127.0.0.1'], 'bench@example.org');
  const channel = await services.connections.create({ environment: 'dev', name: 'bench-slack', type: 'slack', config: {}, secret: slackUrl });
  await services.notifications.createRule('dev', { name: 'bench successes', events: ['run.succeeded'], connectionId: channel.id }, 'bench@example.org');
  const since = new Date();
  const owner = await services.auth.principalOfUser((await services.users.listUsers()).find((user) => user.email === 'bench@example.org')!.id);
  // Interval schedules with the same period are due at the same instants (multiples of the period since the epoch).
  const ids: string[] = [];
  for (let index = 0; index < SCHEDULES; index += 1) {
    const created = await services.schedules.create(owner!, {
      name: `bench-${index}`,
      runbook: 'quick',
      environment: 'dev',
      inputs: {},
      spec: { intervals: [{ every: `${EVERY_SECONDS}s` }] },
      policies: {},
    });
    ids.push(created.id);
  }
  const now = Date.now();
  const period = EVERY_SECONDS * 1000;
  // The first instant at least 3 s away, so every schedule exists before it.
  let due = Math.ceil(now / period) * period;
  if (due - now < 3_000) due += period;
  const dueAt = new Date(due);
  const lateness = { fire: [] as number[], run: [] as number[] };
  const deadline = due + 60_000;
  for (;;) {
    const fires = await stack.prisma.scheduleFire.findMany({ where: { scheduleId: { in: ids }, scheduledAt: dueAt } });
    if (fires.length === SCHEDULES || Date.now() > deadline) {
      for (const fire of fires) {
        if (!fire.runId) continue;
        const run = await stack.client.workflow.getHandle(fire.runId).describe();
        const parent = run.parentExecution;
        const fireWorkflow = parent?.workflowId ? await stack.client.workflow.getHandle(parent.workflowId, parent.runId ?? undefined).describe() : undefined;
        if (fireWorkflow) lateness.fire.push(fireWorkflow.startTime.getTime() - due);
        lateness.run.push(run.startTime.getTime() - due);
      }
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const extra = { schedules: SCHEDULES, started: lateness.run.length };
  emit('temporal_fire_lateness_p50', percentile(lateness.fire, 0.5), 'ms', { ...extra, baseline: true });
  emit('temporal_fire_lateness_p99', percentile(lateness.fire, 0.99), 'ms', { ...extra, baseline: true });
  emit('run_start_lateness_p50', percentile(lateness.run, 0.5), 'ms', extra);
  emit('run_start_lateness_p99', percentile(lateness.run, 0.99), 'ms', extra);
  emit('jarvis_added_p50', percentile(lateness.run, 0.5) - percentile(lateness.fire, 0.5), 'ms', { ...extra, baseline: 'temporal_fire_lateness_p50' });
  emit('runs_started', lateness.run.length, 'runs', { expected: SCHEDULES, met: lateness.run.length === SCHEDULES });
  // Notifications: run succeeded (the event written with the run's last projection write) to delivered to Slack.
  const notifyDeadline = Date.now() + 60_000;
  let latencies = await services.notifications.deliveryLatencies(since);
  while (latencies.length < lateness.run.length && Date.now() < notifyDeadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    latencies = await services.notifications.deliveryLatencies(since);
  }
  const notified = { notifications: latencies.length, received: received.length };
  emit('notification_latency_p50', percentile(latencies, 0.5), 'ms', notified);
  emit('notification_latency_p99', percentile(latencies, 0.99), 'ms', notified);
  emit('notifications_delivered', latencies.length, 'notifications', { expected: lateness.run.length, met: latencies.length === lateness.run.length });
  for (const id of ids) await services.schedules.delete(id);
  slack.close();
} finally {
  await stack.stop();
}
process.exit(0);
