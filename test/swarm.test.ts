// Swarm stacks on a real Docker engine in Swarm mode (.ci/start-docker.sh),
// written as Compose files: deploy a two-replica stack and see it converge, a
// rolling image update, an update whose healthcheck fails rolled back by Swarm
// (the run fails with the reason), scale, remove; a broken file stops the run
// before its approval; the CLI validates and deploys.
import Docker from 'dockerode';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnv, PROJECT_ROOT } from '../config/env.js';
import { startApiForTests } from './api-harness.js';
import { scratchDir, writeManifests } from './files.js';
import { runCli } from './processes.js';

const socketPath = loadEnv().testDockerSocket;
const docker = new Docker({ socketPath });
const STACK = `s${Math.random().toString(36).slice(2, 8)}`;
const SERVICE = `${STACK}_web`;
const DATABASE_SECRET = 'postgres://shop:Sw4rm-s3cret@db.internal/shop';

const manifests = {
  'deploy-stack': readFileSync(path.join(PROJECT_ROOT, 'runbooks', 'deploy-stack.yaml'), 'utf8'),
  'scale-service': `
name: scale-service
title: Scale
inputs: { type: object, properties: { endpoint: { type: string }, service: { type: string }, replicas: { type: integer } }, required: [endpoint, service, replicas] }
steps:
  - id: scale
    action: swarm.service.scale
    with: { endpoint: "\${{ inputs.endpoint }}", service: "\${{ inputs.service }}", replicas: "\${{ inputs.replicas }}" }
`,
  'remove-stack': readFileSync(path.join(PROJECT_ROOT, 'runbooks', 'remove-stack.yaml'), 'utf8'),
};

/** A Compose file as users write them for Swarm (host networking through the external network named host). */
function stackYaml(options: { tag: string; readyFile: string; replicas?: number }) {
  return `
services:
  web:
    image: jarvis-test/busybox:\${TAG:-${options.tag}}
    command: [sh, -c, 'trap "exit 0" TERM; touch /tmp/ready; while true; do sleep 1 & wait $$!; done']
    networks: [hostnet]
    environment: [GREETING=hello]
    healthcheck: { test: [CMD, cat, ${options.readyFile}], interval: 1s, timeout: 1s, retries: 2 }
    deploy:
      replicas: ${options.replicas ?? 2}
      update_config: { parallelism: 1, delay: 0s, monitor: 4s, failure_action: rollback }
    x-jarvis:
      routes: [{ host: shop.example.org, port: 8080, tlsResolver: letsencrypt }]
networks:
  hostnet: { external: true, name: host }
`;
}

let api: Awaited<ReturnType<typeof startApiForTests>>;

beforeAll(async () => {
  await docker.ping();
  await docker.getImage('jarvis-test/busybox:1').tag({ repo: 'jarvis-test/busybox', tag: '2' });
  api = await startApiForTests(writeManifests(manifests), [{ email: 'ops@example.org', password: 'swarm password 123', grants: [['dev', 'operator']] }], { gitAllowFileUrls: true });
  await api.services.connections.create({ environment: 'dev', name: 'swarm', type: 'docker', config: { socketPath } });
  await api.services.connections.create({ environment: 'dev', name: 'shop-db', type: 'postgres', config: {}, secret: DATABASE_SECRET });
}, 120_000);

afterAll(async () => {
  for (const service of [SERVICE, `${STACK}sec_api`, `${STACK}git_web`]) await docker.getService(service).remove().catch(() => undefined);
  await api?.stop();
});

async function run(runbook: string, inputs: Record<string, unknown>) {
  const { id } = await api.services.runs.startRun({ runbook, inputs, environment: 'dev', startedBy: 'ops@example.org' });
  await api.temporal.workflow
    .getHandle(id)
    .result()
    .catch(() => undefined);
  return api.services.runs.showRun(id);
}

const specOf = async () => (await docker.getService(SERVICE).inspect()).Spec as Docker.ServiceSpec & { TaskTemplate: { ContainerSpec: { Image: string; Healthcheck?: { Test?: string[] } } } };
const runningTasks = async () =>
  (await docker.listTasks({ filters: { service: [SERVICE], 'desired-state': ['running'] } })).filter((task: { Status?: { State?: string } }) => task.Status?.State === 'running');

describe('Swarm stacks', () => {
  it('deploys, updates with a rolling update, rolls back a failing update, scales and removes', async () => {
    const deployed = await run('deploy-stack', { endpoint: 'swarm', name: STACK, stack: stackYaml({ tag: '1', readyFile: '/tmp/ready' }) });
    expect(deployed.status, deployed.error).toBe('COMPLETED');
    expect(deployed.progress?.steps.map((step) => [step.id, step.status])).toEqual([
      ['validate', 'succeeded'],
      ['approve', 'skipped'],
      ['deploy', 'succeeded'],
      ['smoke', 'skipped'],
      ['dns', 'skipped'],
    ]);
    expect(await runningTasks()).toHaveLength(2);
    const spec = await specOf();
    expect(spec.Labels).toMatchObject({ 'com.docker.stack.namespace': STACK, 'traefik.enable': 'true', [`traefik.http.routers.${STACK}-web-0.tls.certresolver`]: 'letsencrypt' });
    expect(spec.TaskTemplate.ContainerSpec.Image).toBe('jarvis-test/busybox:1');

    const updated = await run('deploy-stack', { endpoint: 'swarm', name: STACK, stack: stackYaml({ tag: '2', readyFile: '/tmp/ready' }) });
    expect(updated.status, updated.error).toBe('COMPLETED');
    expect((await specOf()).TaskTemplate.ContainerSpec.Image).toBe('jarvis-test/busybox:2');
    const tasks = await runningTasks();
    expect(tasks).toHaveLength(2);
    expect(tasks.every((task: { Spec?: { ContainerSpec?: { Image?: string } } }) => task.Spec?.ContainerSpec?.Image === 'jarvis-test/busybox:2')).toBe(true);

    const failing = await run('deploy-stack', { endpoint: 'swarm', name: STACK, stack: stackYaml({ tag: '2', readyFile: '/tmp/never-there' }) });
    expect(failing.status).toBe('FAILED');
    expect(failing.error).toMatch(/rolled it back/);
    await expect.poll(async () => (await specOf()).TaskTemplate.ContainerSpec.Healthcheck?.Test, { timeout: 30_000 }).toEqual(['CMD', 'cat', '/tmp/ready']);
    await expect.poll(async () => (await runningTasks()).length, { timeout: 30_000 }).toBe(2);

    const scaled = await run('scale-service', { endpoint: 'swarm', service: SERVICE, replicas: 3 });
    expect(scaled.status, scaled.error).toBe('COMPLETED');
    expect(await runningTasks()).toHaveLength(3);

    const removed = await run('remove-stack', { endpoint: 'swarm', stack: STACK });
    expect(removed.status, removed.error).toBe('COMPLETED');
    expect(await docker.listServices({ filters: { label: [`com.docker.stack.namespace=${STACK}`] } })).toEqual([]);
  }, 240_000);

  it("mounts a connection's secret as a Swarm secret file, never in the service spec, and removes it with the stack", async () => {
    const stack = `${STACK}sec`;
    // Both ways: a top-level secret whose data is the connection's (Compose references, with target and mode), and x-jarvis on a service.
    const manifest = `
x-service: &service
  image: jarvis-test/busybox:1
  command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 1 & wait $$!; done']
  networks: [hostnet]
  healthcheck: { test: [CMD, sh, -c, 'grep -q ^postgres://shop: /run/secrets/database_url'], interval: 1s, timeout: 1s, retries: 2 }
services:
  api:
    <<: *service
    secrets: [{ source: shop_database, target: database_url, mode: 0400 }]
  worker:
    <<: *service
    x-jarvis:
      secrets: [{ connection: shop-db, file: database_url }]
secrets:
  shop_database:
    x-jarvis: { connection: shop-db }
networks:
  hostnet: { external: true, name: host }
`;
    const deployed = await run('deploy-stack', { endpoint: 'swarm', name: stack, stack: manifest });
    expect(deployed.status, deployed.error).toBe('COMPLETED');
    const spec = (await docker.getService(`${stack}_api`).inspect()).Spec;
    expect(JSON.stringify(spec)).not.toContain('Sw4rm-s3cret');
    expect(spec.TaskTemplate.ContainerSpec.Secrets).toEqual([
      expect.objectContaining({ SecretName: expect.stringMatching(new RegExp(`^${stack}_shop_database_[0-9a-f]{10}$`)), File: expect.objectContaining({ Name: 'database_url', Mode: 0o400 }) }),
    ]);
    const worker = (await docker.getService(`${stack}_worker`).inspect()).Spec;
    expect(JSON.stringify(worker)).not.toContain('Sw4rm-s3cret');
    expect(worker.TaskTemplate.ContainerSpec.Secrets).toEqual([
      expect.objectContaining({ SecretName: expect.stringMatching(new RegExp(`^${stack}_shop-db_`)), File: expect.objectContaining({ Name: 'database_url' }) }),
    ]);
    const secretsOf = async () => (await docker.listSecrets({ filters: { label: [`com.docker.stack.namespace=${stack}`] } })).map((secret) => secret.Spec?.Name);
    expect(await secretsOf()).toHaveLength(2);
    // The same file again (a retried or repeated deploy) reuses the secret and restarts nothing.
    const tasksOf = async () => (await docker.listTasks({ filters: { service: [`${stack}_api`], 'desired-state': ['running'] } })).map((task: { ID: string }) => task.ID);
    const before = await tasksOf();
    expect((await run('deploy-stack', { endpoint: 'swarm', name: stack, stack: manifest })).status).toBe('COMPLETED');
    expect(await secretsOf()).toHaveLength(2);
    expect(await tasksOf()).toEqual(before);
    const removed = await run('remove-stack', { endpoint: 'swarm', stack });
    expect(removed.status, removed.error).toBe('COMPLETED');
    expect(await secretsOf()).toEqual([]);
  }, 120_000);

  it('refuses a broken Compose file before its approval, with the path and line of each mistake, without retrying', async () => {
    const broken = await run('deploy-stack', { endpoint: 'swarm', name: STACK, stack: 'services:\n  web:\n    deploy: { replicas: -1 }\n    enviroment: [A=b]\n' });
    expect(broken.status).toBe('FAILED');
    expect(broken.error).toContain('Compose file is invalid');
    expect(broken.error).toMatch(/services\.web\.deploy\.replicas: cannot be negative \(line 3/);
    expect(broken.error).toMatch(/services\.web\.enviroment: unknown field "enviroment" \(did you mean "environment"\?\) \(line 4/);
    expect(broken.progress?.steps.map((step) => [step.id, step.status])).toEqual([
      ['validate', 'failed'],
      ['approve', 'pending'],
      ['deploy', 'pending'],
      ['smoke', 'pending'],
      ['dns', 'pending'],
    ]);
    expect(broken.progress?.steps.find((step) => step.id === 'validate')?.attempts).toBe(1);
  });

  it('deploys a stack orch.yaml marks deploy: auto when its repository syncs, once per commit, with the files next to it', async () => {
    const stack = `${STACK}git`;
    const bare = path.join(scratchDir(), 'stacks.git');
    const work = path.join(scratchDir(), 'stacks-work');
    const git = (...args: string[]) => execFileSync('git', ['-C', work, '-c', 'user.name=Ops', '-c', 'user.email=ops@example.org', ...args]);
    execFileSync('git', ['init', '-q', '--bare', '--initial-branch=main', bare]);
    mkdirSync(path.join(work, 'stacks'), { recursive: true });
    git('init', '-q', '--initial-branch=main');
    writeFileSync(path.join(work, 'orch.yaml'), `stacks:\n  - { file: stacks/web.yaml, name: ${stack}, deploy: auto, endpoint: swarm, variables: { TAG: "1" } }\n  - stacks/manual.yaml\n`);
    writeFileSync(
      path.join(work, 'stacks', 'web.yaml'),
      `services:
  web:
    image: jarvis-test/busybox:\${TAG}
    command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 1 & wait $$!; done']
    env_file: ./web.env
    networks: [hostnet]
networks:
  hostnet: { external: true, name: host }
`,
    );
    writeFileSync(path.join(work, 'stacks', 'web.env'), 'SHOP_MODE=from-the-repository\n');
    writeFileSync(path.join(work, 'stacks', 'manual.yaml'), 'services:\n  tool:\n    image: jarvis-test/busybox:1\n');
    git('add', '.');
    git('commit', '-q', '-m', 'a stack deployed on push');
    git('push', '-q', bare, 'main');
    await api.services.connections.create({ environment: 'dev', name: 'stacks-repo', type: 'git', config: { url: bare, branch: 'main' } });

    const first = await api.services.git.sync('dev', 'stacks-repo', null);
    expect(first.stacks).toEqual([stack, 'manual']);
    expect(first.deployed).toEqual([{ stack, runId: expect.any(String) }]);
    await api.temporal.workflow.getHandle(first.deployed[0]!.runId).result();
    const deployed = await api.services.runs.showRun(first.deployed[0]!.runId);
    expect(deployed.status, deployed.error).toBe('COMPLETED');
    expect(deployed.startedBy).toBe('git:stacks-repo');
    const spec = (await docker.getService(`${stack}_web`).inspect()).Spec;
    expect(spec.TaskTemplate.ContainerSpec.Env).toEqual(['SHOP_MODE=from-the-repository']);
    expect(spec.TaskTemplate.ContainerSpec.Image).toBe('jarvis-test/busybox:1');
    // The same commit synced again (a redelivered webhook) answers the same run: nothing is deployed twice.
    const again = await api.services.git.sync('dev', 'stacks-repo', null);
    expect(again.deployed).toEqual(first.deployed);
    expect(await docker.listServices({ filters: { label: ['com.docker.stack.namespace=manual'] } })).toEqual([]);
    const removed = await run('remove-stack', { endpoint: 'swarm', stack });
    expect(removed.status, removed.error).toBe('COMPLETED');
  }, 120_000);

  it('deploys, lists and removes a stack from the CLI through the API', async () => {
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = api.app.server.address() as { port: number };
    const access = await api.logIn('ops@example.org', 'swarm password 123');
    const created = await api.app.inject({ method: 'POST', url: '/auth/api-tokens', headers: { authorization: `Bearer ${access}` }, payload: { name: 'cli' } });
    const env = { JARVIS_API_URL: `http://127.0.0.1:${port}`, JARVIS_API_TOKEN: created.json().token as string, JARVIS_DATA_DIR: scratchDir() };
    const file = path.join(scratchDir(), 'stack.yaml');
    writeFileSync(file, stackYaml({ tag: '1', readyFile: '/tmp/ready', replicas: 1 }));
    const validated = await runCli(['stacks', 'validate', file, '--name', STACK, '--var', 'TAG=2', '-o', 'json'], env);
    expect(validated.code, validated.stderr).toBe(0);
    const plan = JSON.parse(validated.stdout) as { valid: boolean; plan: { services: Array<{ name: string; spec: { TaskTemplate: { ContainerSpec: { Image: string } } } }> } };
    expect(plan.valid).toBe(true);
    expect(plan.plan.services.map((service) => [service.name, service.spec.TaskTemplate.ContainerSpec.Image])).toEqual([[SERVICE, 'jarvis-test/busybox:2']]);
    const invalidFile = path.join(scratchDir(), 'broken.yaml');
    writeFileSync(invalidFile, 'services:\n  web:\n    image: busybox\n    networks: [front]\n');
    const invalid = await runCli(['stacks', 'validate', invalidFile, '--name', STACK], env);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/services\.web\.networks\.front: undefined network "front"/);
    const deployed = await runCli(['stacks', 'deploy', file, '--name', STACK, '--env', 'dev', '--endpoint', 'swarm', '--watch'], env);
    const runId = /run (\S+)/.exec(deployed.stdout)?.[1] ?? '';
    expect(deployed.code, `${deployed.stdout}${deployed.stderr}${deployed.code === 0 ? '' : JSON.stringify(await api.services.runs.showRun(runId).catch((error: unknown) => String(error)))}`).toBe(0);
    const listed = await runCli(['stacks', 'list', '--env', 'dev', '--endpoint', 'swarm', '-o', 'json'], env);
    expect(JSON.parse(listed.stdout)).toContainEqual(expect.objectContaining({ stack: STACK, name: SERVICE, replicas: 1, running: 1 }));
    const removed = await runCli(['stacks', 'rm', STACK, '--env', 'dev', '--endpoint', 'swarm', '--watch'], env);
    expect(removed.code).toBe(0);
    const after = await runCli(['stacks', 'list', '--env', 'dev', '--endpoint', 'swarm', '-o', 'json'], env);
    expect((JSON.parse(after.stdout) as Array<{ stack: string }>).some((row) => row.stack === STACK)).toBe(false);
  }, 120_000);
});
