// Nodes and agents on the real Temporal dev server and PostgreSQL: a node is
// enrolled, its agent (started here on its own task queue) runs a runbook's
// node-local step, the health schedule marks it online and, once the agent
// stops, unreachable; provisioning registers nodes with node.register; the
// topology comes out as JSON and Graphviz DOT.
import { ScheduleOverlapPolicy, type ScheduleHandle } from '@temporalio/client';
import Docker from 'dockerode';
import { spawn } from 'node:child_process';
import { statSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_STATE_FILE, startAgent, type RunningAgent } from '../agent/agent.js';
import { loadEnv, PROJECT_ROOT } from '../config/env.js';
import type { HardwareProfile } from '../infra/node-profile.js';
import { actionCatalog } from '../activities/catalog.js';
import { loadManifestText } from '../manifest/loader.js';
import { SecretKey } from '../security/secret-key.js';
import { ensureNodeHealthSchedule } from '../temporal/node-health-schedule.js';
import { startApiForTests } from './api-harness.js';
import { scratchDir, writeManifests } from './files.js';
import { collectingLineSink } from './line-sinks.js';
import { runCli } from './processes.js';

const PASSWORD = 'nodes password 12';
const env = loadEnv();

const nodeFacts = `
name: node-facts
title: Read a node's facts
environments: [dev]
inputs:
  type: object
  properties:
    node: { type: string }
steps:
  - id: profile
    action: node.profile
    node: \${{ inputs.node }}
    pickupTimeout: 20s
  - id: health
    action: node.health
    node: \${{ inputs.node }}
    pickupTimeout: 20s
`;

/** Nobody answers for this node: its step must fail quickly, not wait. */
const nodeGhost = `
name: node-ghost
title: Ask a node nobody runs an agent for
environments: [dev]
steps:
  - id: health
    action: node.health
    node: ghost-1
    pickupTimeout: 2s
`;

function profileOf(hostname: string, interfaces: HardwareProfile['interfaces'], swarm?: NonNullable<HardwareProfile['docker']>['swarm']): HardwareProfile {
  return {
    hostname,
    os: { name: 'Debian GNU/Linux', version: '12', kernel: '6.1.0', arch: 'x64' },
    cpu: { model: 'Test CPU', cores: 2 },
    memoryBytes: 4_000_000_000,
    disks: [{ mount: '/', device: '/dev/vda1', sizeBytes: 40e9, usedBytes: 4e9 }],
    interfaces,
    docker: { version: '27.3.1', ...(swarm ? { swarm } : {}) },
    collectedAt: new Date().toISOString(),
  };
}

const registerNode = `
name: register-node
title: Register a provisioned node
environments: [dev]
inputs:
  type: object
  properties:
    name: { type: string }
    address: { type: string }
    profile: { type: object }
steps:
  - id: register
    action: node.register
    with:
      name: \${{ inputs.name }}
      address: \${{ inputs.address }}
      labels: { role: web }
      profile: \${{ inputs.profile }}
`;

const nodeContainer = `
name: node-container
title: Restart a container on a node
environments: [dev]
inputs:
  type: object
  properties:
    node: { type: string }
    container: { type: string }
steps:
  - id: list
    action: node.container.list
    node: \${{ inputs.node }}
    pickupTimeout: 10s
  - id: restart
    action: node.container.restart
    node: \${{ inputs.node }}
    pickupTimeout: 10s
    with: { container: '\${{ inputs.container }}', timeoutSeconds: 1 }
`;

let api: Awaited<ReturnType<typeof startApiForTests>>;
let apiUrl = '';
const tokens: Record<string, string> = {};
const agents: RunningAgent[] = [];
const agentDir = scratchDir();

beforeAll(async () => {
  api = await startApiForTests(writeManifests({ 'node-facts': nodeFacts, 'register-node': registerNode, 'node-container': nodeContainer, 'node-ghost': nodeGhost }), [
    { email: 'ada@example.org', password: PASSWORD, grants: [['dev', 'admin']] },
    { email: 'vic@example.org', password: PASSWORD, grants: [['dev', 'viewer']] },
  ]);
  await api.app.listen({ host: '127.0.0.1', port: 0 });
  apiUrl = `http://127.0.0.1:${(api.app.server.address() as { port: number }).port}`;
  tokens.ada = await api.logIn('ada@example.org', PASSWORD);
  tokens.vic = await api.logIn('vic@example.org', PASSWORD);
}, 120_000);

afterAll(async () => {
  for (const agent of agents) await agent.stop().catch(() => undefined);
  await api?.stop();
});

const call = (user: string, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
  api.app.inject({ method, url, headers: { authorization: `Bearer ${tokens[user]}` }, ...(payload ? { payload } : {}) });

async function runToEnd(runbook: string, inputs: Record<string, unknown>) {
  const started = await call('ada', 'POST', `/runbooks/${runbook}/execute`, { environment: 'dev', inputs });
  expect(started.statusCode).toBe(201);
  const id = started.json().id as string;
  const result = await api.temporal.workflow.getHandle(id).result().catch(() => undefined);
  return { result: result as { outputs: Record<string, Record<string, unknown>> } | undefined, run: (await call('ada', 'GET', `/runs/${id}`)).json() };
}

/**
 * Triggers the schedule and waits for the check it starts to end. Started runs are named by the
 * second they start in, so two triggers within one second would be one run: wait for the next second.
 */
async function runHealthCheck(schedule: ScheduleHandle): Promise<void> {
  const before = (await schedule.describe()).info.numActionsTaken;
  await new Promise((resolve) => setTimeout(resolve, 1_050 - (Date.now() % 1_000)));
  await schedule.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
  await expect.poll(async () => (await schedule.describe()).info.numActionsTaken, { timeout: 10_000 }).toBeGreaterThan(before);
  const started = (await schedule.describe()).info.recentActions.at(-1)!.action;
  await api.temporal.workflow.getHandle(started.workflow.workflowId).result();
}

async function nodeNamed(name: string) {
  const listed = (await call('ada', 'GET', '/nodes?environment=dev')).json() as Array<{ id: string; name: string; status: string; source: string; profile: HardwareProfile | null; lastSeenAt: string | null; lastHealth: unknown }>;
  return listed.find((node) => node.name === name);
}

describe('nodes and agents', () => {
  let nodeId = '';
  let token = '';
  const scheduleId = `jarvis-node-health-test-${Math.random().toString(36).slice(2, 8)}`;

  it('enrolls a node: an admin gets a one-time token (kept only as a hash) and the agent command; a viewer may not', async () => {
    expect((await call('vic', 'POST', '/nodes/enroll', { environment: 'dev', name: 'edge-1' })).statusCode).toBe(403);
    const enrolled = await call('ada', 'POST', '/nodes/enroll', { environment: 'dev', name: 'edge-1', labels: { site: 'lab' } });
    expect(enrolled.statusCode).toBe(201);
    const body = enrolled.json();
    token = body.token;
    nodeId = body.node.id;
    expect(body).toMatchObject({ node: { name: 'edge-1', status: 'pending', enrollmentPending: true, labels: { site: 'lab' } }, taskQueue: 'jarvis-node-dev-edge-1' });
    expect(body.command).toContain(`--token ${token}`);
    const rows = await api.prisma.node.findMany();
    expect(JSON.stringify(rows)).not.toContain(token);
    const audit = await api.prisma.auditEntry.findFirst({ where: { action: 'POST /nodes/enroll', outcome: 'success' } });
    expect(audit).toMatchObject({ actorEmail: 'ada@example.org', targetId: nodeId });
  });

  it("starts an agent with the token: it gets its queue and its environment's codec key (not the secret key, nor another environment's), keeps a 0600 credential, and the token cannot be used again", async () => {
    const agent = await startAgent({ apiUrl, token, dataDir: agentDir, dockerSocket: env.testDockerSocket, lineSink: collectingLineSink(), shutdownGraceMs: 500 });
    agents.push(agent);
    expect(agent.enrollment).toMatchObject({ node: { id: nodeId, name: 'edge-1', environment: 'dev' }, taskQueue: 'jarvis-node-dev-edge-1' });
    const stateFile = path.join(agentDir, AGENT_STATE_FILE);
    expect(statSync(stateFile).mode & 0o777).toBe(0o600);
    const saved = readFileSync(stateFile, 'utf8');
    const secret = SecretKey.load(env.secretKey, env.dataDir);
    expect(saved).toContain(secret.derive('workflow-payloads:dev').toString('base64'));
    expect(saved).not.toContain(secret.derive('workflow-payloads').toString('base64'));
    expect(saved).not.toContain(secret.derive('workflow-payloads:prod').toString('base64'));
    expect(saved).not.toContain(secret.derive('credentials').toString('base64'));
    expect(saved).not.toContain(token);

    const again = await fetch(`${apiUrl}/agents/enroll`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(again.status).toBe(401);
    expect((await api.prisma.node.findUniqueOrThrow({ where: { id: nodeId } })).enrollmentTokenHash).toBeNull();
  });

  it('runs a runbook step with node: on that node’s agent', async () => {
    const { result, run } = await runToEnd('node-facts', { node: 'edge-1' });
    expect(run.status).toBe('COMPLETED');
    expect(result?.outputs.profile).toMatchObject({ hostname: os.hostname(), cpu: { cores: os.cpus().length } });
    expect((result?.outputs.profile?.docker as { version?: string } | null)?.version).toMatch(/^\d+\./);
    expect(result?.outputs.health).toMatchObject({ cpus: os.cpus().length, memoryTotalBytes: os.totalmem() });
  });

  it('fails a step on a node without an agent, saying so, instead of waiting for ever', async () => {
    const { run } = await runToEnd('node-ghost', {});
    expect(run.status).toBe('FAILED');
    expect(run.error).toContain('node ghost-1 did not pick up the step (agent offline?)');
  });

  it('marks the node online with its profile when the health schedule runs, and unreachable once the agent stops', async () => {
    await ensureNodeHealthSchedule(api.temporal, { taskQueue: api.taskQueue, intervalMs: 3_600_000, pickupTimeoutMs: 5_000, scheduleId });
    // Created twice: the second call updates it in place.
    await ensureNodeHealthSchedule(api.temporal, { taskQueue: api.taskQueue, intervalMs: 3_600_000, pickupTimeoutMs: 5_000, scheduleId });
    const schedule = api.temporal.schedule.getHandle(scheduleId);
    try {
      await runHealthCheck(schedule);
      expect((await nodeNamed('edge-1'))?.status).toBe('online');
      const online = (await call('vic', 'GET', `/nodes/${nodeId}`)).json();
      expect(online.profile).toMatchObject({ hostname: os.hostname(), os: { arch: os.arch() } });
      expect(online.lastHealth).toMatchObject({ cpus: os.cpus().length });
      expect(online.lastSeenAt).not.toBeNull();

      await agents.pop()!.stop();
      await runHealthCheck(schedule);
      expect((await nodeNamed('edge-1'))?.status).toBe('unreachable');

      // A restarted agent needs no new token: its saved credential brings the node back.
      const restarted = await startAgent({ apiUrl, dataDir: agentDir, dockerSocket: env.testDockerSocket, lineSink: collectingLineSink(), shutdownGraceMs: 500 });
      agents.push(restarted);
      expect(restarted.enrollment.node.id).toBe(nodeId);
      await runHealthCheck(schedule);
      expect((await nodeNamed('edge-1'))?.status).toBe('online');
    } finally {
      await schedule.delete();
    }
  }, 120_000);

  it('registers provisioned nodes with node.register (online, source ssh), idempotently', async () => {
    const profile = profileOf('web-1', [{ name: 'eth0', addresses: ['10.20.0.5/24'] }]);
    const first = await runToEnd('register-node', { name: 'web-1', address: '203.0.113.5', profile });
    expect(first.run.status).toBe('COMPLETED');
    expect(first.result?.outputs.register).toMatchObject({ name: 'web-1', created: true });
    const second = await runToEnd('register-node', { name: 'web-1', address: '203.0.113.5', profile });
    expect(second.result?.outputs.register).toMatchObject({ id: first.result?.outputs.register?.id, created: false });
    expect(await nodeNamed('web-1')).toMatchObject({ status: 'online', source: 'ssh', profile: { hostname: 'web-1' } });

    const bad = await runToEnd('register-node', { name: 'web-2', address: '203.0.113.6', profile: { hostname: 'web-2' } });
    expect(bad.run.status).toBe('FAILED');
    expect(bad.run.error).toContain('invalid arguments for node.register');
  });

  it('exports the topology: Swarm clusters, workers linked to managers, nodes sharing a subnet, as JSON and DOT', async () => {
    const swarm = { state: 'active', clusterId: 'cluster-abc', managers: ['10.30.0.1:2377'] };
    await api.services.nodes.upsertFromProvisioning({ name: 'mgr-1', environment: 'dev', address: '10.30.0.1', labels: {}, profile: profileOf('mgr-1', [{ name: 'eth1', addresses: ['10.30.0.1/24', 'fe80::1/64'] }], { ...swarm, role: 'manager' }) });
    await api.services.nodes.upsertFromProvisioning({ name: 'wrk-1', environment: 'dev', address: '10.30.0.2', labels: {}, profile: profileOf('wrk-1', [{ name: 'eth1', addresses: ['10.30.0.2/24'] }], { ...swarm, role: 'worker' }) });
    await api.services.nodes.upsertFromProvisioning({ name: 'web-3', environment: 'dev', address: '10.20.0.9', labels: {}, profile: profileOf('web-3', [{ name: 'eth0', addresses: ['10.20.0.9/24'] }]) });

    const topology = (await call('vic', 'GET', '/network/topology?environment=dev')).json();
    // The suite's Docker engine may be a Swarm manager itself: edge-1's agent then reports a cluster too.
    expect(topology.clusters).toContainEqual({ id: 'cluster-abc', managers: ['mgr-1'], workers: ['wrk-1'] });
    expect(topology.links).toEqual(
      expect.arrayContaining([
        { from: 'wrk-1', to: 'mgr-1', kind: 'swarm' },
        { from: 'mgr-1', to: 'wrk-1', kind: 'subnet', subnet: '10.30.0.0/24' },
        { from: 'web-1', to: 'web-3', kind: 'subnet', subnet: '10.20.0.0/24' },
      ]),
    );
    expect(topology.links.some((link: { from: string; to: string }) => [link.from, link.to].includes('edge-1') && [link.from, link.to].includes('web-1'))).toBe(false);

    const dot = await call('vic', 'GET', '/network/topology?environment=dev&format=dot');
    expect(dot.statusCode).toBe(200);
    expect(dot.headers['content-type']).toContain('text/vnd.graphviz');
    const graph = parseDot(dot.body);
    expect(graph.name).toBe('jarvis-dev');
    expect([...graph.nodes].sort()).toEqual(['edge-1', 'mgr-1', 'web-1', 'web-3', 'wrk-1']);
    expect(graph.edges).toEqual(expect.arrayContaining([['wrk-1', 'mgr-1'], ['web-1', 'web-3']]));
    for (const [from, to] of graph.edges) expect(graph.nodes.has(from) && graph.nodes.has(to)).toBe(true);
    expect(graph.subgraphs).toBe(topology.clusters.length);

    expect((await call('vic', 'GET', '/network/topology?environment=prod')).statusCode).toBe(403);
  });

  it('works from the CLI: nodes list / show / enroll and network topology', async () => {
    const { token: apiToken } = (await call('ada', 'POST', '/auth/api-tokens', { name: 'cli' })).json() as { token: string };
    const cliEnv = { JARVIS_API_URL: apiUrl, JARVIS_API_TOKEN: apiToken, JARVIS_DATA_DIR: scratchDir() };
    const listed = await runCli(['nodes', 'list', '--environment', 'dev', '-o', 'json'], cliEnv);
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as Array<{ name: string }>).map((node) => node.name)).toEqual(expect.arrayContaining(['edge-1', 'web-1', 'mgr-1']));
    const table = await runCli(['nodes', 'list', '--environment', 'dev'], cliEnv);
    expect(table.stdout).toMatch(/^NAME\s+ENV\s+STATUS/m);
    expect(table.stdout).toMatch(/^edge-1\s+dev\s+online/m);
    const shown = await runCli(['nodes', 'show', 'edge-1', '--environment', 'dev', '-o', 'yaml'], cliEnv);
    expect(shown.stdout).toContain(`hostname: ${os.hostname()}`);
    const enrolled = await runCli(['nodes', 'enroll', 'edge-2', '--environment', 'dev', '--label', 'site=lab', '--label', 'tier=edge'], cliEnv);
    expect(enrolled.code).toBe(0);
    expect(enrolled.stdout).toMatch(/npx jarvis agent --api \S+ --token jen_\S+/);
    expect((await nodeNamed('edge-2'))).toMatchObject({ status: 'pending' });
    const dot = await runCli(['network', 'topology', '--environment', 'dev', '--format', 'dot'], cliEnv);
    expect(dot.stdout).toMatch(/^digraph "jarvis-dev" \{/);
    const missing = await runCli(['nodes', 'show', 'nope', '--environment', 'dev'], cliEnv);
    expect(missing.code).toBe(3);
  }, 180_000);

  it('deletes a node, after which its agent credential is refused', async () => {
    expect((await call('vic', 'DELETE', `/nodes/${nodeId}`)).statusCode).toBe(403);
    await agents.pop()?.stop();
    expect((await call('ada', 'DELETE', `/nodes/${nodeId}`)).statusCode).toBe(204);
    const saved = JSON.parse(readFileSync(path.join(agentDir, AGENT_STATE_FILE), 'utf8')) as { credential: string };
    const refused = await fetch(`${apiUrl}/agents/enroll`, { method: 'POST', headers: { authorization: `Bearer ${saved.credential}` } });
    expect(refused.status).toBe(401);
  });

  it('runs the agent as its own process (jarvis agent) and restarts a container of the node through it', async () => {
    const enrolled = (await call('ada', 'POST', '/nodes/enroll', { environment: 'dev', name: 'edge-3' })).json() as { token: string };
    const docker = new Docker({ socketPath: env.testDockerSocket });
    const name = `jarvis-node-test-${Math.random().toString(36).slice(2, 8)}`;
    const container = await docker.createContainer({
      name,
      Image: 'jarvis-test/busybox:1',
      Cmd: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.2 & wait $!; done'],
      HostConfig: { NetworkMode: 'none' },
    });
    await container.start();
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'agent', '--api', apiUrl, '--token', enrolled.token, '--data-dir', scratchDir(), '--docker-socket', env.testDockerSocket], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, JARVIS_DATA_DIR: scratchDir() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await expect.poll(() => output, { timeout: 30_000 }).toContain('polling task queue "jarvis-node-dev-edge-3"');
      const before = (await container.inspect()).State.StartedAt;
      const { result, run } = await runToEnd('node-container', { node: 'edge-3', container: name });
      expect(run.status).toBe('COMPLETED');
      expect((result?.outputs.list?.containers as Array<{ name: string }>).map((entry) => entry.name)).toContain(name);
      expect(result?.outputs.restart).toMatchObject({ name, state: 'running' });
      expect(Date.parse((await container.inspect()).State.StartedAt)).toBeGreaterThan(Date.parse(before));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output).toContain('jarvis agent stopped');
    } finally {
      child.kill('SIGKILL');
      await container.remove({ force: true });
    }
  }, 90_000);

  it('limits enrollment attempts per client, so tokens cannot be guessed at speed', async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 25; attempt += 1) {
      statuses.push((await fetch(`${apiUrl}/agents/enroll`, { method: 'POST', headers: { authorization: `Bearer jen_guess${attempt}` } })).status);
    }
    expect(statuses).toContain(429);
    expect(statuses.filter((status) => status !== 401 && status !== 429)).toEqual([]);
    const audited = await api.prisma.auditEntry.count({ where: { action: 'POST /agents/enroll', outcome: 'denied' } });
    expect(audited).toBeGreaterThanOrEqual(10);
  });
});

describe('manifests with node steps', () => {
  const compile = (steps: string) => loadManifestText(`name: n\ntitle: N\nsteps:\n${steps}`, actionCatalog);

  it('require a node for node-local actions and refuse one on any other action, with the path', () => {
    const result = compile('  - id: a\n    action: node.health\n  - id: b\n    action: core.noop\n    node: web-1\n  - id: c\n    action: core.noop\n    pickupTimeout: 1m\n  - id: d\n    action: node.health\n    node: Not_A_Node\n');
    expect(result.ok).toBe(false);
    const errors = result.ok ? [] : result.errors;
    expect(errors.map((error) => error.path)).toEqual(['steps[0].node', 'steps[1].node', 'steps[2].pickupTimeout', 'steps[3].node']);
    expect(errors[0]!.message).toContain('node.health runs on a node');
    expect(errors[1]!.message).toContain('"node" applies only to node-local actions');
  });

  it('compile a node step with its pickup timeout, and leave other steps as they were', () => {
    const result = compile('  - id: a\n    action: node.profile\n    node: web-1\n  - id: b\n    action: core.noop\n');
    expect(result.ok).toBe(true);
    const [onNode, plain] = result.ok ? result.compiled.runbook.steps : [];
    expect(onNode).toMatchObject({ node: 'web-1', pickupTimeoutMs: 300_000 });
    expect(plain).not.toHaveProperty('node');
    expect(plain).not.toHaveProperty('pickupTimeoutMs');
  });
});

/** A structural reading of the DOT the API writes: graph name, declared nodes, edges, subgraphs, balanced braces. */
function parseDot(text: string): { name: string; nodes: Set<string>; edges: Array<[string, string]>; subgraphs: number } {
  const tokens = [...text.matchAll(/"((?:[^"\\]|\\.)*)"|->|--|[{}[\];=,]|[A-Za-z_][\w]*/g)].map((match) => (match[1] !== undefined ? { quoted: true, value: match[1].replace(/\\(.)/g, '$1') } : { quoted: false, value: match[0] }));
  expect(tokens[0]?.value).toBe('digraph');
  const name = tokens[1]!.value;
  expect(tokens[2]?.value).toBe('{');
  let depth = 0;
  let subgraphs = 0;
  const nodes = new Set<string>();
  const edges: Array<[string, string]> = [];
  for (let index = 2; index < tokens.length; index += 1) {
    const token = tokens[index]!;
    if (token.value === '{' && !token.quoted) depth += 1;
    else if (token.value === '}' && !token.quoted) depth -= 1;
    else if (token.value === 'subgraph' && !token.quoted) subgraphs += 1;
    else if (token.value === '[' && !token.quoted) {
      while (tokens[index]?.value !== ']' || tokens[index]?.quoted) index += 1;
    } else if (token.quoted && tokens[index + 1]?.value === '->') {
      edges.push([token.value, tokens[index + 2]!.value]);
      index += 2;
    } else if (token.quoted && tokens[index + 1]?.value === '[' && tokens[index - 1]?.value !== 'subgraph') {
      nodes.add(token.value);
    }
    expect(depth).toBeGreaterThanOrEqual(0);
  }
  expect(depth).toBe(0);
  return { name, nodes, edges, subgraphs };
}
