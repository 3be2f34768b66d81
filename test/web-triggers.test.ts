// The Triggers page in a browser (Chromium through playwright-core) against the
// stack as `npm start` runs it: create a trigger, see its URL and secret once,
// deliver to it, read its deliveries; in English and in Portuguese.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { writeManifests } from './files.js';
import { ADMIN, signIn, startWebStack, type WebStack } from './web-stack.js';

const manifests = {
  'deploy-repo': `
name: deploy-repo
title: Deploys a repository
environments: [dev]
inputs: { type: object, properties: { repo: { type: string } }, required: [repo], additionalProperties: false }
steps:
  - id: say
    action: core.noop
`,
};

let stack: WebStack;

beforeAll(async () => {
  stack = await startWebStack(writeManifests(manifests), inject('temporalAddress'));
}, 180_000);

afterAll(async () => stack?.stop());

describe('the Triggers page', () => {
  it('creates a trigger showing its URL and secret once, then lists what a delivery came to, in English and Portuguese', async () => {
    const page = await signIn(stack.browser, stack.webUrl, ADMIN.email, ADMIN.password);
    await page.click('nav >> text=Triggers');
    await page.waitForURL('**/triggers');
    await page.fill('#trigger-name', 'from-the-web');
    await page.selectOption('#trigger-runbook', 'deploy-repo');
    await page.fill('#trigger-inputs', 'repo=${{ body.repository.name }}');
    await page.click('button[value=create]');
    const notice = page.locator('[data-testid=trigger-secret]');
    await notice.waitFor();
    const url = (await notice.locator('code').nth(0).textContent())!;
    const secret = (await notice.locator('code').nth(1).textContent())!;
    expect(url).toMatch(new RegExp(`^${stack.apiUrl}/webhooks/triggers/[0-9a-f-]{36}$`));
    expect(secret).toMatch(/^jts_/);
    await page.getByRole('link', { name: 'from-the-web', exact: true }).waitFor();
    await stack.screenshot(page, 'triggers-created');

    const body = JSON.stringify({ repository: { name: 'web-repo' } });
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
    const delivered = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-jarvis-timestamp': String(timestamp), 'x-jarvis-signature': `sha256=${signature}` }, body });
    expect(delivered.status).toBe(201);
    const { runId } = (await delivered.json()) as { runId: string };

    await page.getByRole('link', { name: 'from-the-web', exact: true }).click();
    const deliveries = page.locator('[data-testid=trigger-deliveries]');
    await deliveries.waitFor();
    expect(await deliveries.textContent()).toContain('started');
    expect(await deliveries.textContent()).toContain(runId);
    expect(await page.content()).not.toContain(secret);

    await page.goto(`${stack.webUrl}/settings`);
    await page.selectOption('#language', 'pt-BR');
    await page.click('.inline-form button[type=submit]');
    await page.waitForSelector('html[lang="pt-BR"]');
    await page.goto(`${stack.webUrl}/triggers`);
    expect(await page.locator('h1').textContent()).toBe('Gatilhos');
    expect(await page.locator('nav').textContent()).toContain('Gatilhos');
    expect(await page.content()).toContain('Novo gatilho');
    expect(await page.content()).not.toContain(secret);
    await stack.screenshot(page, 'pt-BR-triggers');
    await page.context().close();
  }, 120_000);
});
