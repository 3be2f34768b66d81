// Cloudflare DNS actions through runs, against a local server speaking
// Cloudflare's API: idempotent upsert, update, delete, rate limits retried,
// refusals and unknown zones failing at once with the reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiForTests } from './api-harness.js';
import { startFakeCloudflare, type FakeCloudflare } from './fake-cloudflare.js';
import { writeManifests } from './files.js';

const TOKEN = 'cf-token-for-tests-123456';
const manifests = {
  'dns-upsert': `
name: dns-upsert
title: Point a name at an address
inputs: { type: object, properties: { connection: { type: string }, zone: { type: string }, name: { type: string }, content: { type: string } }, required: [connection, zone, name, content] }
steps:
  - id: upsert
    action: cloudflare.dns.upsert
    with: { connection: "\${{ inputs.connection }}", zone: "\${{ inputs.zone }}", name: "\${{ inputs.name }}", content: "\${{ inputs.content }}", ttl: 300 }
    retry: { maxAttempts: 3, initialInterval: 100ms }
`,
  'dns-delete': `
name: dns-delete
title: Remove a name
inputs: { type: object, properties: { zone: { type: string }, name: { type: string } }, required: [zone, name] }
steps:
  - id: delete
    action: cloudflare.dns.delete
    with: { connection: cloudflare, zone: "\${{ inputs.zone }}", name: "\${{ inputs.name }}" }
`,
};

let api: Awaited<ReturnType<typeof startApiForTests>>;
let cloudflare: FakeCloudflare;

beforeAll(async () => {
  cloudflare = await startFakeCloudflare(TOKEN, { 'example.org': 'zone-1' });
  api = await startApiForTests(writeManifests(manifests), [{ email: 'dns@example.org', password: 'dns password 1234', grants: [['dev', 'operator']] }]);
  await api.services.connections.create({ environment: 'dev', name: 'cloudflare', type: 'cloudflare', config: { baseUrl: cloudflare.baseUrl }, secret: TOKEN });
  await api.services.connections.create({ environment: 'dev', name: 'cloudflare-bad', type: 'cloudflare', config: { baseUrl: cloudflare.baseUrl }, secret: 'not-the-token' });
}, 120_000);

afterAll(async () => {
  await api?.stop();
  await cloudflare?.close();
});

async function run(runbook: string, inputs: Record<string, unknown>) {
  const { id } = await api.services.runs.startRun({ runbook, inputs, environment: 'dev', startedBy: 'dns@example.org' });
  await api.temporal.workflow.getHandle(id).result().catch(() => undefined);
  return api.services.runs.showRun(id);
}

describe('Cloudflare DNS', () => {
  it('creates a record once, leaves it alone when asked again, updates it when the address changes, and deletes it', async () => {
    const inputs = { connection: 'cloudflare', zone: 'example.org', name: 'shop', content: '203.0.113.10' };
    const first = await run('dns-upsert', inputs);
    expect(first.status, first.error).toBe('COMPLETED');
    expect(first.progress?.steps[0]?.outputSummary).toContain('"action":"created"');
    expect(cloudflare.records).toEqual([expect.objectContaining({ type: 'A', name: 'shop.example.org', content: '203.0.113.10', ttl: 300 })]);

    const again = await run('dns-upsert', inputs);
    expect(again.progress?.steps[0]?.outputSummary).toContain('"action":"unchanged"');
    expect(cloudflare.changes).toEqual(['POST shop.example.org']);

    const moved = await run('dns-upsert', { ...inputs, content: '203.0.113.20' });
    expect(moved.progress?.steps[0]?.outputSummary).toContain('"action":"updated"');
    expect(cloudflare.records[0]?.content).toBe('203.0.113.20');

    const deleted = await run('dns-delete', { zone: 'example.org', name: 'shop' });
    expect(deleted.status).toBe('COMPLETED');
    expect(cloudflare.records).toEqual([]);
    expect(cloudflare.changes).toEqual(['POST shop.example.org', 'PUT shop.example.org', 'DELETE shop.example.org']);
  });

  it('waits out rate limits and still succeeds', async () => {
    cloudflare.rateLimitNext(2);
    const limited = await run('dns-upsert', { connection: 'cloudflare', zone: 'example.org', name: 'api', content: '203.0.113.30' });
    expect(limited.status, limited.error).toBe('COMPLETED');
    expect(cloudflare.rateLimited).toBe(2);
  });

  it('fails at once, with the reason, on a refused token or an unknown zone', async () => {
    const refused = await run('dns-upsert', { connection: 'cloudflare-bad', zone: 'example.org', name: 'x', content: '203.0.113.1' });
    expect(refused.status).toBe('FAILED');
    expect(refused.error).toMatch(/Cloudflare refused the change \(403\)/);
    expect(refused.progress?.steps[0]?.attempts).toBe(1);
    const unknownZone = await run('dns-upsert', { connection: 'cloudflare', zone: 'nowhere.example', name: 'x', content: '203.0.113.1' });
    expect(unknownZone.error).toContain('no zone "nowhere.example"');
    expect(unknownZone.progress?.steps[0]?.attempts).toBe(1);
    // The token never shows in what the run kept.
    expect(JSON.stringify(await api.services.runs.timeline(unknownZone.id))).not.toContain(TOKEN);
  });
});
