// A deploy cut off in the middle (the worker dies after creating some of a
// stack's services) and tried again, as Temporal retries the activity: every
// service, network and secret exists once, and nothing is left half made.
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { loadEnv } from '../config/env.js';
import { planStack } from '../infra/compose/stack-plan.js';
import { applyStackPlan, removeStack } from '../infra/swarm-stack.js';

const docker = new Docker({ socketPath: loadEnv().testDockerSocket });
const STACK = `apply${Math.random().toString(36).slice(2, 7)}`;
const label = { filters: { label: [`com.docker.stack.namespace=${STACK}`] } };

const compose = `
services:
  a: { image: jarvis-test/busybox:1, command: [sleep, '3600'], secrets: [token], deploy: { replicas: 0 } }
  b: { image: jarvis-test/busybox:1, command: [sleep, '3600'], deploy: { replicas: 0 } }
  c: { image: jarvis-test/busybox:1, command: [sleep, '3600'], configs: [settings], deploy: { replicas: 0 } }
secrets:
  token: { file: ./token.txt }
configs:
  settings: { file: ./settings.ini }
`;

afterAll(async () => {
  await removeStack(docker, STACK, () => undefined).catch(() => undefined);
});

describe('applying a stack again after a crash in the middle', () => {
  it('finishes the work once: each service, network, secret and config exists exactly once', async () => {
    const planned = planStack({ text: compose, stack: STACK, files: { 'token.txt': 'not-a-real-token', 'settings.ini': '[app]\nmode=test\n' } });
    if (!planned.ok) throw new Error(JSON.stringify(planned.errors));
    const died = new Error('the worker died');
    await expect(
      applyStackPlan(docker, planned.plan, {
        resolveSecret: async () => '',
        log: (text) => {
          if (text.startsWith(`creating ${STACK}_b`)) throw died;
        },
      }),
    ).rejects.toBe(died);
    expect((await docker.listServices(label)).map((service) => service.Spec?.Name).sort()).toEqual([`${STACK}_a`, `${STACK}_b`]);

    const logged: string[] = [];
    const applied = await applyStackPlan(docker, planned.plan, { resolveSecret: async () => '', log: (text) => logged.push(text) });
    expect(applied.map((service) => [service.name, service.updatedAt !== undefined])).toEqual([
      [`${STACK}_a`, true],
      [`${STACK}_b`, true],
      [`${STACK}_c`, false],
    ]);
    expect(logged.filter((line) => line.startsWith('created'))).toEqual([]);
    expect((await docker.listServices(label)).map((service) => service.Spec?.Name).sort()).toEqual([`${STACK}_a`, `${STACK}_b`, `${STACK}_c`]);
    expect((await docker.listNetworks(label)).map((network) => network.Name)).toEqual([`${STACK}_default`]);
    expect(await docker.listSecrets(label)).toHaveLength(1);
    expect(await docker.listConfigs(label)).toHaveLength(1);
  });
});
