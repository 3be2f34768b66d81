import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../config/env.js';
import { actionCatalog } from '../activities/catalog.js';
import { loadManifest } from '../manifest/loader.js';
import { emptyAllowlist, parseAllowlist } from '../activities/http/egress-policy.js';
import { DatabaseLineSink } from '../logs/database-line-sink.js';
import { RunLogStore } from '../logs/run-log-store.js';
import { useMigratedDatabase } from './databases.js';
import { createRunService, scratchDir, startWorker, uniqueTaskQueue } from './harness.js';

// Step output goes where production sends it: the database line sink, into PostgreSQL.
const database = useMigratedDatabase();
let logStore: RunLogStore;
let worker: Awaited<ReturnType<typeof startWorker>>;
let runs: Awaited<ReturnType<typeof createRunService>>;

/** A local service that is unhealthy for its first two requests, then healthy. */
let httpServer: Server;
let requests = 0;
let webhookBodies: unknown[] = [];

beforeAll(async () => {
  const taskQueue = uniqueTaskQueue('builtin');
  // The local test service is on loopback: dev allowlists it, as an admin would with PUT /environments/dev/egress-allowlist.
  const egress = { allowlist: async (environment: string) => (environment === 'dev' ? parseAllowlist('dev', ['127.0.0.1']).allowlist : emptyAllowlist(environment)) };
  logStore = new RunLogStore(database.pool);
  worker = await startWorker(taskQueue, undefined, { lineSink: new DatabaseLineSink(logStore), egress });
  runs = await createRunService(taskQueue, path.join(PROJECT_ROOT, 'runbooks'));
  httpServer = createServer((request, response) => {
    if (request.url === '/health') {
      requests += 1;
      response.writeHead(requests <= 2 ? 503 : 200, { 'content-type': 'text/plain' }).end(requests <= 2 ? 'starting' : 'ok: ready');
      return;
    }
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      webhookBodies.push(JSON.parse(body));
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await worker?.stop();
  await runs?.close();
  httpServer?.close();
});

async function runToEnd(runbook: string, inputs: Record<string, unknown>) {
  const { id } = await runs.service.startRun({ runbook, inputs, environment: 'dev', startedBy: 'alice' });
  const result = (await runs.client.workflow.getHandle(id).result()) as { outputs: Record<string, Record<string, unknown>> };
  return { id, outputs: result.outputs, details: await runs.service.showRun(id) };
}

/** Runs a one-off manifest made of these steps, the way `jarvis run start FILE` does. */
async function runInline(steps: unknown[]) {
  const compiled = runs.service.expectValid(loadManifest({ name: 'inline', title: 'Inline', steps }, actionCatalog), 'inline manifest is invalid:');
  const { id } = await runs.service.startRun({ runbook: compiled, inputs: {}, environment: 'dev', startedBy: 'alice' });
  const result = (await runs.client.workflow.getHandle(id).result()) as { outputs: Record<string, Record<string, unknown>> };
  return { id, outputs: result.outputs };
}

describe('the built-in runbooks and actions', () => {
  it('smoke runs a no-op, a command and a condition', async () => {
    const { outputs, details } = await runToEnd('smoke', { message: 'ping' });
    expect(outputs.whoami?.stdout).toMatch(/Linux.*\nmessage: ping/s);
    expect(details.progress?.steps.map((step) => step.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });

  it('http-health-check retries until the endpoint is healthy', async () => {
    requests = 0;
    const url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}/health`;
    const { outputs, details } = await runToEnd('http-health-check', { url, expectBody: 'ready' });
    expect(outputs.check).toEqual({ status: 200, durationMs: expect.any(Number), bodyMatched: true });
    expect(details.progress?.steps[0]?.attempts).toBe(3);
  });

  it('disk-usage reports every filesystem', async () => {
    const { outputs } = await runToEnd('disk-usage', { thresholdPercent: 100 });
    expect(outputs.report?.stdout).toMatch(/Filesystem\s+Size\s+Used/);
    expect(outputs.threshold?.stdout).toBe('all filesystems below 100%');
  });

  it('ansible-ping runs a real playbook and parses its recap', async () => {
    const { id, outputs } = await runToEnd('ansible-ping', { greeting: 'hello ansible' });
    expect(outputs.ping).toMatchObject({ exitCode: 0, failedHosts: [], recap: { localhost: { ok: 2, failed: 0, unreachable: 0 } } });
    // A step succeeds only once its lines are stored, so they are all there when the run has ended.
    const logged = (await logStore.linesAfter(id, 0)).map((line) => line.text);
    expect(logged).toEqual(expect.arrayContaining([expect.stringContaining('"msg": "hello ansible"'), expect.stringMatching(/^PLAY RECAP/)]));
  });

  it('a webhook notification posts a chat-style message', async () => {
    webhookBodies = [];
    const url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}/hook`;
    const { outputs } = await runInline([{ id: 'tell', action: 'notify.webhook', with: { url, message: 'deploy finished' } }]);
    expect(outputs.tell).toEqual({ status: 204 });
    expect(webhookBodies).toEqual([{ text: 'deploy finished' }]);
  });

  it('an HTTP request returns status, headers and the parsed JSON body', async () => {
    webhookBodies = [];
    const url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}/hook`;
    const { outputs } = await runInline([{ id: 'post', action: 'http.request', with: { url, method: 'POST', body: { deploy: 42 } } }]);
    expect(outputs.post).toMatchObject({ status: 204, ok: true });
    expect(webhookBodies).toEqual([{ deploy: 42 }]);
  });

  it('a command gets its env and cwd, and is killed at its timeout', async () => {
    const cwd = scratchDir();
    const { outputs } = await runInline([
      { id: 'where', action: 'shell.run', with: { command: 'echo "$GREETING from $(pwd)"', shell: true, env: { GREETING: 'hi' }, cwd } },
    ]);
    expect(outputs.where?.stdout).toBe(`hi from ${cwd}`);
    const started = Date.now();
    const failed = await runInline([{ id: 'slow', action: 'shell.run', with: { command: 'sleep', args: ['30'], timeout: '1s' } }]).catch((error: Error) => error);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(String((failed as { cause?: Error }).cause?.message)).toBe('step "slow" failed: command timed out after 1s');
  });
});
