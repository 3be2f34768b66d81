// Containers on a real Docker engine (.ci/start-docker.sh): listed by group,
// logs read, and restarted, stopped and started through audited runs, with an
// approval in prod.
import Docker from 'dockerode';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnv } from '../config/env.js';
import { startApiForTests } from './api-harness.js';
import { scratchDir, writeManifests } from './files.js';
import { runCli } from './processes.js';

const PASSWORD = 'containers password 1';
const socketPath = loadEnv().testDockerSocket;
const docker = new Docker({ socketPath });
const suffix = Math.random().toString(36).slice(2, 8);
const WEB = `jarvis-test-web-${suffix}`;
const LONE = `jarvis-test-lone-${suffix}`;

let api: Awaited<ReturnType<typeof startApiForTests>>;
const tokens: Record<string, string> = {};

async function createContainer(name: string, labels: Record<string, string>) {
  const container = await docker.createContainer({
    name,
    Image: 'jarvis-test/busybox:1',
    // Exits on SIGTERM (a shell as pid 1 would ignore it), so stops and restarts take no grace time.
    Cmd: ['sh', '-c', 'trap "exit 0" TERM; i=0; while true; do i=$((i+1)); echo "tick $i"; echo "warn $i" >&2; sleep 0.2 & wait $!; done'],
    Labels: labels,
    HostConfig: { NetworkMode: 'none' },
  });
  await container.start();
}

beforeAll(async () => {
  await docker.ping();
  await createContainer(WEB, { 'com.docker.compose.project': `shop-${suffix}` });
  await createContainer(LONE, {});
  api = await startApiForTests(writeManifests({}), [
    { email: 'olive@example.org', password: PASSWORD, grants: [['dev', 'operator'], ['prod', 'operator']] },
    { email: 'amir@example.org', password: PASSWORD, grants: [['prod', 'approver']] },
  ]);
  for (const environment of ['dev', 'prod']) await api.services.connections.create({ environment, name: 'engine', type: 'docker', config: { socketPath } });
  await api.services.connections.create({ environment: 'dev', name: 'dead', type: 'docker', config: { socketPath: '/nonexistent/docker.sock' } });
  tokens.olive = await api.logIn('olive@example.org', PASSWORD);
  tokens.amir = await api.logIn('amir@example.org', PASSWORD);
}, 120_000);

afterAll(async () => {
  for (const name of [WEB, LONE]) await docker.getContainer(name).remove({ force: true }).catch(() => undefined);
  await api?.stop();
});

/** The API on a port (for the CLI and sockets), once. */
async function listening(): Promise<{ port: number }> {
  if (!api.app.server.listening) await api.app.listen({ host: '127.0.0.1', port: 0 });
  return api.app.server.address() as { port: number };
}

const as = (user: string) => ({ authorization: `Bearer ${tokens[user]}` });
const call = (user: string, method: 'GET' | 'POST', url: string, payload?: object) => api.app.inject({ method, url, headers: as(user), ...(payload ? { payload } : {}) });
const stateOf = async (name: string) => (await docker.getContainer(name).inspect()).State;

async function finish(id: string) {
  await api.temporal.workflow.getHandle(id).result().catch(() => undefined);
  return (await call('olive', 'GET', `/runs/${id}`)).json();
}

describe('containers', () => {
  it('lists a Docker endpoint’s containers grouped by Compose project, and reads their logs', async () => {
    const listed = (await call('olive', 'GET', '/containers?environment=dev&endpoint=engine')).json() as Array<{ group: string; containers: Array<{ name: string; state: string }> }>;
    expect(listed.find((group) => group.group === `compose:shop-${suffix}`)?.containers).toEqual([expect.objectContaining({ name: WEB, state: 'running' })]);
    expect(listed.find((group) => group.group === 'standalone')?.containers.map((container) => container.name)).toContain(LONE);

    const logs = (await call('olive', 'GET', `/containers/${WEB}/logs?environment=dev&endpoint=engine&tail=6`)).json() as { lines: Array<{ stream: string; text: string }> };
    expect(logs.lines.length).toBeGreaterThanOrEqual(2);
    expect(logs.lines.length).toBeLessThanOrEqual(12);
    expect(logs.lines.some((line) => line.stream === 'stdout' && /^tick \d+$/.test(line.text))).toBe(true);
    expect(logs.lines.some((line) => line.stream === 'stderr' && /^warn \d+$/.test(line.text))).toBe(true);
  });

  it('restarts a container through a run in dev, recorded in the audit log', async () => {
    const before = await stateOf(WEB);
    const response = await call('olive', 'POST', `/containers/${WEB}/restart`, { environment: 'dev', endpoint: 'engine' });
    expect(response.statusCode).toBe(201);
    const run = await finish(response.json().id);
    expect(run).toMatchObject({ status: 'COMPLETED', startedBy: 'olive@example.org', runbook: 'container-restart' });
    expect(run.progress.steps.map((step: { id: string; status: string }) => [step.id, step.status])).toEqual([
      ['approve', 'skipped'],
      ['restart', 'succeeded'],
    ]);
    const after = await stateOf(WEB);
    expect(after.Running).toBe(true);
    expect(Date.parse(after.StartedAt)).toBeGreaterThan(Date.parse(before.StartedAt));
    const audit = await api.prisma.auditEntry.findFirst({ where: { action: { contains: 'containers' }, targetId: WEB }, orderBy: { at: 'desc' } });
    expect(audit).toMatchObject({ actorEmail: 'olive@example.org', outcome: 'success' });
  });

  it('stops a container in prod only after an approver agrees, and starts it again', async () => {
    const stop = await call('olive', 'POST', `/containers/${LONE}/stop`, { environment: 'prod', endpoint: 'engine' });
    const id = stop.json().id as string;
    await expect.poll(async () => (await call('olive', 'GET', `/runs/${id}`)).json().progress?.steps?.[0]?.status, { timeout: 10_000 }).toBe('waiting');
    expect((await stateOf(LONE)).Running).toBe(true);
    const approved = await call('amir', 'POST', `/runs/${id}/steps/approve/approve`, {});
    expect(approved.statusCode).toBe(200);
    expect((await finish(id)).status).toBe('COMPLETED');
    expect((await stateOf(LONE)).Running).toBe(false);

    const start = await call('olive', 'POST', `/containers/${LONE}/start`, { environment: 'prod', endpoint: 'engine' });
    expect((await finish(start.json().id)).status).toBe('COMPLETED');
    expect((await stateOf(LONE)).Running).toBe(true);
  });

  it('says what is wrong: an unknown container fails its run at once, an unknown endpoint is 404, a dead engine 502', async () => {
    const missing = await call('olive', 'POST', '/containers/no-such-container/restart', { environment: 'dev', endpoint: 'engine' });
    const run = await finish(missing.json().id);
    expect(run.status).toBe('FAILED');
    expect(run.error).toContain('no container "no-such-container"');
    expect(run.progress.steps[1].attempts).toBe(1);

    const unknown = await call('olive', 'GET', '/containers?environment=dev&endpoint=nope');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().detail).toContain('no connection "nope" in dev');
    const dead = await call('olive', 'GET', '/containers?environment=dev&endpoint=dead');
    expect(dead.statusCode).toBe(502);
    expect(dead.json().detail).toContain('cannot be reached');
  });

  it('works from the CLI through the API: list, logs, and a watched restart', async () => {
    const address = await listening();
    const { token } = (await call('olive', 'POST', '/auth/api-tokens', { name: 'cli' })).json() as { token: string };
    const env = { JARVIS_API_URL: `http://127.0.0.1:${address.port}`, JARVIS_API_TOKEN: token, JARVIS_DATA_DIR: scratchDir() };
    const listed = await runCli(['containers', 'list', '--env', 'dev', '--endpoint', 'engine', '-o', 'json'], env);
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as Array<{ name: string; group: string }>).find((row) => row.name === WEB)).toMatchObject({ group: `compose:shop-${suffix}` });
    const logs = await runCli(['containers', 'logs', WEB, '--env', 'dev', '--endpoint', 'engine', '--tail', '4'], env);
    expect(logs.stdout).toMatch(/^tick \d+$/m);
    expect(logs.stderr).toMatch(/^warn \d+$/m);
    const restarted = await runCli(['containers', 'restart', WEB, '--env', 'dev', '--endpoint', 'engine', '--watch'], env);
    expect(restarted.code).toBe(0);
    expect(restarted.stdout).toMatch(/succeeded/);
    const refused = await runCli(['containers', 'restart', WEB, '--env', 'prod', '--endpoint', 'nope'], env);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('no connection "nope" in prod');
  });

  it('follows a container’s output and stats over a ticketed socket', async () => {
    const { port } = await listening();
    const ticketed = await call('olive', 'POST', `/containers/${WEB}/log-ticket`, { environment: 'dev', endpoint: 'engine' });
    expect(ticketed.statusCode).toBe(201);
    const url = `ws://127.0.0.1:${port}${ticketed.json().url as string}&tail=0`;
    const socket = new WebSocket(url);
    const lines: string[] = [];
    const stats: Array<{ memoryBytes: number; cpuPercent: number }> = [];
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; lines?: Array<{ text: string }>; memoryBytes?: number; cpuPercent?: number };
      if (message.type === 'lines') lines.push(...message.lines!.map((line) => line.text));
      if (message.type === 'stats') stats.push({ memoryBytes: message.memoryBytes!, cpuPercent: message.cpuPercent! });
    });
    await expect.poll(() => lines.filter((line) => line.startsWith('tick')).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(5);
    await expect.poll(() => stats.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    expect(stats[0]!.memoryBytes).toBeGreaterThan(0);
    // Ticks arrive in order, none doubled.
    const ticks = lines.filter((line) => line.startsWith('tick')).map((line) => Number(line.split(' ')[1]));
    expect(ticks).toEqual([...ticks].sort((a, b) => a - b));
    expect(new Set(ticks).size).toBe(ticks.length);
    socket.close();

    const forged = new WebSocket(url.replace(/ticket=[^&]+/, 'ticket=forged-ticket-value'));
    const closed = await new Promise<number>((resolve) => forged.on('close', (code) => resolve(code)));
    expect(closed).toBe(1008);
    const otherContainer = new WebSocket(url.replace(`/ws/containers/${WEB}`, `/ws/containers/${LONE}`));
    expect(await new Promise<number>((resolve) => otherContainer.on('close', (code) => resolve(code)))).toBe(1008);
  });
});

