// Cloud servers through runs against local servers speaking Hetzner Cloud's
// and DigitalOcean's APIs: create, wait until active, destroy; a failure after
// creation runs the compensation that destroys the server; rate limits are
// waited out; a refused token fails at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiForTests } from './api-harness.js';
import { writeManifests } from './files.js';
import { startFakeProvider, type FakeProvider } from './fake-vps-providers.js';

const TOKEN = 'provider-token-123456';
const server = (after: string) => `
name: server-then-${after}
title: A server, then ${after}
inputs: { type: object, properties: { connection: { type: string } }, required: [connection] }
steps:
  - id: create
    action: vps.server.create
    with: { connection: "\${{ inputs.connection }}", name: web-1, size: small, region: fra1, image: debian-12 }
    compensate:
      - id: destroy
        action: vps.server.destroy
        with: { connection: "\${{ inputs.connection }}", id: "\${{ steps.create.output.id }}" }
  - id: wait
    action: vps.server.wait
    with: { connection: "\${{ inputs.connection }}", id: "\${{ steps.create.output.id }}", interval: 100ms, timeout: 30s }
  - id: next
    action: shell.run
    with: { command: '${after === 'failure' ? 'echo "hardening failed"; exit 1' : 'echo ok'}', shell: true }
    retry: { maxAttempts: 1 }
`;

let api: Awaited<ReturnType<typeof startApiForTests>>;
let hetzner: FakeProvider;
let digitalocean: FakeProvider;

beforeAll(async () => {
  hetzner = await startFakeProvider('hetzner', TOKEN);
  digitalocean = await startFakeProvider('digitalocean', TOKEN);
  api = await startApiForTests(writeManifests({ 'server-then-success': server('success'), 'server-then-failure': server('failure') }), [
    { email: 'infra@example.org', password: 'infra password 123', grants: [['dev', 'operator']] },
  ]);
  await api.services.connections.create({ environment: 'dev', name: 'hetzner', type: 'hetzner', config: { baseUrl: hetzner.baseUrl }, secret: TOKEN });
  await api.services.connections.create({ environment: 'dev', name: 'do', type: 'digitalocean', config: { baseUrl: digitalocean.baseUrl }, secret: TOKEN });
  await api.services.connections.create({ environment: 'dev', name: 'hetzner-bad', type: 'hetzner', config: { baseUrl: hetzner.baseUrl }, secret: 'wrong-token-0000' });
}, 120_000);

afterAll(async () => {
  await api?.stop();
  await hetzner?.close();
  await digitalocean?.close();
});

async function run(runbook: string, connection: string) {
  const { id } = await api.services.runs.startRun({ runbook, inputs: { connection }, environment: 'dev', startedBy: 'infra@example.org' });
  await api.temporal.workflow.getHandle(id).result().catch(() => undefined);
  return api.services.runs.showRun(id);
}

describe('cloud servers', () => {
  it('creates a Hetzner server and waits until it is active, through a rate limit', async () => {
    hetzner.rateLimitNext(1);
    const done = await run('server-then-success', 'hetzner');
    expect(done.status, done.error).toBe('COMPLETED');
    const wait = done.progress?.steps.find((step) => step.id === 'wait');
    expect(wait?.outputSummary).toContain('"ipv4":"198.51.100.7"');
    expect(hetzner.requests.filter((line) => line.startsWith('POST'))).toHaveLength(2); // the 429, then the creation
    expect([...hetzner.servers.values()].filter((entry) => !entry.deleted)).toHaveLength(1);
  });

  it('destroys the server it created when a later step fails (DigitalOcean)', async () => {
    const failed = await run('server-then-failure', 'do');
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toContain('hardening failed');
    expect(failed.progress?.compensations).toEqual([expect.objectContaining({ id: 'destroy', forStep: 'create', status: 'succeeded' })]);
    const [created] = [...digitalocean.servers.entries()];
    expect(created?.[1].deleted).toBe(true);
    expect(digitalocean.requests).toContain(`DELETE /droplets/${created?.[0]}`);
  });

  it('fails at once when the provider refuses the token', async () => {
    const refused = await run('server-then-success', 'hetzner-bad');
    expect(refused.status).toBe('FAILED');
    expect(refused.error).toMatch(/answered 401: unable to authenticate/);
    expect(refused.progress?.steps[0]?.attempts).toBe(1);
  });
});
