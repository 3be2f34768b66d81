// `npm run bench:infra`: the time from "deploy" to "all replicas healthy" for
// a 2-service stack (2 replicas each) on the real Swarm of .ci/start-docker.sh,
// deployed through a deploy-stack run and, as the baseline in the same run,
// by calling the same deploy code directly; Jarvis's overhead is the
// difference, and the time spent inside Docker API calls is printed too.
import Docker from 'dockerode';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { loadEnv, PROJECT_ROOT } from '../config/env.js';
import { planStack } from '../infra/compose/stack-plan.js';
import { deployStack, removeStack } from '../infra/swarm-stack.js';
import { startBenchApi } from './api-stack.js';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 3);
const socketPath = loadEnv().testDockerSocket;
const docker = new Docker({ socketPath });

function emit(metric: string, value: number, unit: string, extra: Record<string, unknown> = {}) {
  console.log(JSON.stringify({ bench: 'infra', metric, value: Math.round(value * 100) / 100, unit, ...extra }));
}

// Time spent inside Docker API calls, from any client in this process (the worker runs here too).
const Modem = createRequire(import.meta.url)('docker-modem') as { prototype: { dial(options: unknown, callback: (...args: unknown[]) => void): unknown } };
let dockerCallMs = 0;
const dial = Modem.prototype.dial;
Modem.prototype.dial = function timedDial(options, callback) {
  const began = performance.now();
  return dial.call(this, options, (...args: unknown[]) => {
    dockerCallMs += performance.now() - began;
    callback(...args);
  });
};

// A Compose file as users write them for Swarm: host networking through the external `host` network.
const stackYaml = `
services:
${['web', 'api']
  .map(
    (service) => `  ${service}:
    image: jarvis-test/busybox:1
    command: [sh, -c, 'trap "exit 0" TERM; touch /tmp/ready; while true; do sleep 1 & wait $$!; done']
    networks: [hostnet]
    deploy: { replicas: 2 }
    healthcheck: { test: [CMD, cat, /tmp/ready], interval: 1s, timeout: 1s, retries: 2 }`,
  )
  .join('\n')}
networks:
  hostnet: { external: true, name: host }
`;

function planned(name: string) {
  const result = planStack({ text: stackYaml, stack: name });
  if (!result.ok) throw new Error(`the bench's stack is invalid: ${JSON.stringify(result.errors)}`);
  return result.plan;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const stack = await startBenchApi({ 'deploy-stack': readFileSync(path.join(PROJECT_ROOT, 'runbooks', 'deploy-stack.yaml'), 'utf8') });
try {
  await stack.services.connections.create({ environment: 'dev', name: 'swarm', type: 'docker', config: { socketPath } });
  const direct: number[] = [];
  const viaRun: number[] = [];
  const dockerInRun: number[] = [];
  for (let sample = 0; sample < SAMPLES; sample += 1) {
    const name = `bench${sample}${Math.random().toString(36).slice(2, 6)}`;
    let began = performance.now();
    await deployStack(docker, planned(`${name}d`), { resolveSecret: async () => '', timeoutMs: 120_000, log: () => {} });
    direct.push(performance.now() - began);
    await removeStack(docker, `${name}d`, () => {});

    dockerCallMs = 0;
    began = performance.now();
    const { id } = await stack.services.runs.startRun({
      runbook: 'deploy-stack',
      inputs: { endpoint: 'swarm', name: `${name}r`, stack: stackYaml },
      environment: 'dev',
      startedBy: 'bench@example.org',
    });
    await stack.client.workflow.getHandle(id).result();
    viaRun.push(performance.now() - began);
    dockerInRun.push(dockerCallMs);
    await removeStack(docker, `${name}r`, () => {});
  }
  const extra = { samples: SAMPLES, services: 2, replicasEach: 2 };
  emit('deploy_to_healthy_via_run_p50', median(viaRun), 'ms', extra);
  emit('deploy_to_healthy_direct_p50', median(direct), 'ms', { ...extra, baseline: true });
  emit('docker_api_call_time_in_run_p50', median(dockerInRun), 'ms', extra);
  emit('jarvis_overhead_p50', median(viaRun.map((value, index) => value - direct[index]!)), 'ms', { ...extra, definition: 'via run minus direct deploy' });
} finally {
  await stack.stop();
}
process.exit(0);
