// Browser test of the run page's fleet view (Chromium through playwright-core)
// against the stack as `npm start` runs it: a rollout over nodes whose agents
// are offline stops at its budget; the page shows the batch progress, the
// counts and the targets (filtered by status), in English and Portuguese, and
// re-runs on the failed targets only.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { messages } from '../web/app/i18n/index.js';
import { writeManifests } from './files.js';
import { waitFor } from './wait.js';
import { ADMIN, signIn, startWebStack, type WebStack } from './web-stack.js';

const NODES = Array.from({ length: 12 }, (_, index) => `web-node-${String(index + 1).padStart(2, '0')}`);

const manifests = {
  'fleet-offline': `
name: fleet-offline
title: Ask nodes whose agents are offline
environments: [dev]
steps:
  - id: ping
    action: node.health
    targets: site=w
    pickupTimeout: 1s
    rollout: { batch: 50%, maxFailures: 5 }
`,
};

let stack: WebStack;
let token = '';
let runId = '';

interface RunView {
  status: string;
  progress?: { status: string; steps: Array<{ id: string; fleet?: { total: number; reused?: boolean; counts: Record<string, number> } }> };
}

async function finished(id: string): Promise<RunView> {
  return waitFor(
    async () => {
      const run = await stack.api<RunView>('GET', `/runs/${encodeURIComponent(id)}`, undefined, token);
      return run.progress && run.progress.status !== 'running' ? run : undefined;
    },
    { message: `run ${id} to end`, timeoutMs: 60_000 },
  );
}

beforeAll(async () => {
  stack = await startWebStack(writeManifests(manifests), inject('temporalAddress'));
  token = (await stack.api<{ accessToken: string }>('POST', '/auth/login', ADMIN)).accessToken;
  for (const name of NODES) await stack.api('POST', '/nodes/enroll', { environment: 'dev', name, labels: { site: 'w' } }, token);
  runId = (await stack.api<{ id: string }>('POST', '/runbooks/fleet-offline/execute', { environment: 'dev', inputs: {} }, token)).id;
  await finished(runId);
}, 180_000);

afterAll(async () => stack?.stop());

describe('the fleet view of a run', () => {
  it('shows batches, counts and targets by status, then re-runs on the failed targets only', async () => {
    const english = messages.en;
    const page = await signIn(stack.browser, stack.webUrl, ADMIN.email, ADMIN.password);
    const opened = Date.now();
    await page.goto(`${stack.webUrl}/runs/${encodeURIComponent(runId)}`);
    await page.waitForSelector('[data-testid=fleet-ping] table.fleet-targets tbody tr');
    console.log(JSON.stringify({ figure: 'web fleet view time to usable', targets: NODES.length, ms: Date.now() - opened }));

    const panel = page.locator('[data-testid=fleet-ping]');
    expect(await panel.locator('h2').textContent()).toBe(english['fleet.title'].replace('{step}', 'ping'));
    expect(await panel.textContent()).toContain('Batch 1 of 2, 6 targets per batch; failure budget 5');
    expect(await panel.textContent()).toMatch(/Stopped: 6 of 12 targets failed in 1 of 2 batches, over the failure budget of 5/);
    expect(await page.textContent('[data-testid=fleet-count-failed]')).toBe('6');
    expect(await page.textContent('[data-testid=fleet-count-skipped]')).toBe('6');
    expect(await panel.locator('tbody tr').count()).toBe(12);
    expect(await panel.locator('tbody tr').first().textContent()).toContain('did not pick up the step');

    await panel.locator('select').selectOption('skipped');
    await waitFor(async () => (await panel.locator('tbody tr').count()) === 6 && (await panel.locator('tbody tr').first().textContent())?.includes('web-node-07'), {
      message: 'the skipped targets only',
    });
    await stack.screenshot(page, 'fleet-01-en');

    await Promise.all([page.waitForURL((url) => url.pathname.startsWith('/runs/') && !url.pathname.endsWith(encodeURIComponent(runId))), page.click(`text=${english['fleet.rerunFailed']}`)]);
    const rerunId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    const rerun = await finished(rerunId);
    expect(rerun.progress!.steps[0]!.fleet).toMatchObject({ total: 6, reused: true });

    await page.goto(`${stack.webUrl}/settings`);
    await page.selectOption('#language', 'pt-BR');
    await page.click('.inline-form button[type=submit]');
    await page.waitForSelector('html[lang="pt-BR"]');
    await page.goto(`${stack.webUrl}/runs/${encodeURIComponent(runId)}`);
    await page.waitForSelector('[data-testid=fleet-ping] table.fleet-targets tbody tr');
    expect(await page.locator('[data-testid=fleet-ping] h2').textContent()).toBe(messages['pt-BR']['fleet.title'].replace('{step}', 'ping'));
    expect(await page.textContent('[data-testid=fleet-ping] thead')).toContain(messages['pt-BR']['fleet.node']);
    await stack.screenshot(page, 'fleet-02-pt-BR');
  });
});
