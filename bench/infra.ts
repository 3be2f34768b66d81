// `npm run bench:infra`: the time from "deploy" to "all replicas healthy" for
// a 2-service stack (2 replicas each) on the real Swarm of .ci/start-docker.sh,
// deployed through a deploy-stack run and, as the baseline in the same run,
// by calling the same deploy code directly; Jarvis's overhead is the
// difference, and the time spent inside Docker API calls is printed too.
// 10 samples by default (BENCH_SAMPLES), the two deploys taking turns to go
// first; each figure carries its mean, min, max and standard deviation.
import Docker from 'dockerode';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { loadEnv, PROJECT_ROOT } from '../config/env.js';
import { planStack } from '../infra/compose/stack-plan.js';
import { deployStack, removeStack } from '../infra/swarm-stack.js';
import { startBenchApi } from './api-stack.js';
import { emitterFor, sizeFromEnv } from './figures.js';

const SAMPLES = sizeFromEnv('BENCH_SAMPLES', 10);
const socketPath = loadEnv().testDockerSocket;
const docker = new Docker({ socketPath });

const emit = emitterFor('infra');

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

/** p50, mean, extremes, (sample) standard deviation and standard error of the mean of a set of samples. */
function spread(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = values.reduce((total, value) => total + value, 0) / values.length;
  const variance = values.length > 1 ? values.reduce((total, value) => total + (value - mean) ** 2, 0) / (values.length - 1) : 0;
  const round = (value: number) => Math.round(value * 10) / 10;
  const stddev = Math.sqrt(variance);
  // standardError: how far the mean may be from the true one (about 2 of them either side for 95%).
  return { p50: sorted[Math.floor(sorted.length / 2)]!, mean: round(mean), min: round(sorted[0]!), max: round(sorted[sorted.length - 1]!), stddev: round(stddev), standardError: round(stddev / Math.sqrt(values.length)) };
}

const stack = await startBenchApi({ 'deploy-stack': readFileSync(path.join(PROJECT_ROOT, 'runbooks', 'deploy-stack.yaml'), 'utf8') });
try {
  await stack.services.connections.create({ environment: 'dev', name: 'swarm', type: 'docker', config: { socketPath } });
  const direct: number[] = [];
  const viaRun: number[] = [];
  const dockerInRun: number[] = [];
  const deployDirectly = async (name: string) => {
    const began = performance.now();
    await deployStack(docker, planned(name), { resolveSecret: async () => '', timeoutMs: 120_000, log: () => {} });
    direct.push(performance.now() - began);
    await removeStack(docker, name, () => {});
  };
  const deployThroughRun = async (name: string) => {
    dockerCallMs = 0;
    const began = performance.now();
    const { id } = await stack.services.runs.startRun({ runbook: 'deploy-stack', inputs: { endpoint: 'swarm', name, stack: stackYaml }, environment: 'dev', startedBy: 'bench@example.org' });
    await stack.client.workflow.getHandle(id).result();
    viaRun.push(performance.now() - began);
    dockerInRun.push(dockerCallMs);
    await removeStack(docker, name, () => {});
  };
  for (let sample = 0; sample < SAMPLES; sample += 1) {
    const name = `bench${sample}${Math.random().toString(36).slice(2, 6)}`;
    // The order alternates so that neither method always meets the warmer (or the more loaded) machine.
    if (sample % 2 === 0) {
      await deployDirectly(`${name}d`);
      await deployThroughRun(`${name}r`);
    } else {
      await deployThroughRun(`${name}r`);
      await deployDirectly(`${name}d`);
    }
    console.error(`sample ${sample + 1}/${SAMPLES}: direct ${Math.round(direct[sample]!)} ms, via run ${Math.round(viaRun[sample]!)} ms`);
  }
  const extra = { samples: SAMPLES, services: 2, replicasEach: 2, order: 'alternating, direct first on even samples' };
  const run = spread(viaRun);
  const baseline = spread(direct);
  const overhead = spread(viaRun.map((value, index) => value - direct[index]!));
  const { p50: runP50, ...runSpread } = run;
  const { p50: directP50, ...directSpread } = baseline;
  const { p50: overheadP50, ...overheadSpread } = overhead;
  emit('deploy_to_healthy_via_run_p50', runP50, 'ms', { ...extra, ...runSpread });
  emit('deploy_to_healthy_direct_p50', directP50, 'ms', { ...extra, ...directSpread, baseline: true });
  emit('docker_api_call_time_in_run_p50', spread(dockerInRun).p50, 'ms', extra);
  emit('jarvis_overhead_p50', overheadP50, 'ms', { ...extra, ...overheadSpread, definition: 'via run minus direct deploy, per sample' });
} finally {
  await stack.stop();
}
process.exit(0);
