// Browser test of retention in the web app (Chromium through playwright-core)
// against the stack as `npm start` runs it: an operator holds a run and sees
// it marked held, an admin sets an environment's retention and runs a dry
// purge from Settings, and the held badge and release are in Portuguese too.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { messages } from '../web/app/i18n/index.js';
import { writeManifests } from './files.js';
import { waitFor } from './wait.js';
import { ADMIN, signIn, startWebStack, type WebStack } from './web-stack.js';

const manifests = {
  'retention-demo': `
name: retention-demo
title: Retention demo
environments: [dev]
steps:
  - id: say
    action: core.noop
`,
};

let stack: WebStack;
let runId = '';
let token = '';

beforeAll(async () => {
  stack = await startWebStack(writeManifests(manifests), inject('temporalAddress'));
  token = (await stack.api<{ accessToken: string }>('POST', '/auth/login', ADMIN)).accessToken;
  runId = (await stack.api<{ id: string }>('POST', '/runbooks/retention-demo/execute', { environment: 'dev', inputs: {} }, token)).id;
  await waitFor(async () => (await stack.api<{ status: string }>('GET', `/runs/${encodeURIComponent(runId)}`, undefined, token)).status === 'COMPLETED', { message: 'the run to complete' });
}, 180_000);

afterAll(async () => stack?.stop());

describe('retention in the web app', () => {
  it('holds a run from its page, sets a retention and counts a purge from Settings, in English then in Portuguese', async () => {
    const english = messages.en;
    const portuguese = messages['pt-BR'];
    const page = await signIn(stack.browser, stack.webUrl, ADMIN.email, ADMIN.password);
    await page.goto(`${stack.webUrl}/runs/${encodeURIComponent(runId)}`);
    await page.waitForSelector('#hold-reason');
    expect(await page.$('[data-testid=held-badge]')).toBeNull();
    await page.fill('#hold-reason', 'kept for the incident review');
    await page.click('form:has(#hold-reason) button[type=submit]');
    await page.waitForSelector('[data-testid=held-badge]');
    expect(await page.textContent('[data-testid=held-badge]')).toBe(english['run.held']);
    expect(await page.textContent('[data-testid=hold-notice]')).toContain('kept for the incident review');
    expect(await stack.api('GET', `/runs/${encodeURIComponent(runId)}`, undefined, token)).toMatchObject({ hold: { reason: 'kept for the incident review', heldBy: ADMIN.email } });
    await stack.screenshot(page, 'retention-01-held');
    await page.goto(`${stack.webUrl}/runs`);
    await page.waitForSelector(`tr:has-text("${runId}") [data-testid=held-badge]`);

    await page.goto(`${stack.webUrl}/settings`);
    await page.waitForSelector('form[data-environment=dev]');
    expect(await page.textContent('#retention-title')).toBe(english['retention.title']);
    await page.fill('#retention-dev-runs', '45d');
    await page.click('form[data-environment=dev] button[type=submit]');
    await page.waitForSelector(`p.notice:has-text("${english['settings.done.retention']}")`);
    expect(await page.inputValue('#retention-dev-runs')).toBe('45d');
    expect(await stack.api('GET', '/environments/dev/retention', undefined, token)).toMatchObject({ runs: '45d', set: { runs: '45d', logs: null } });

    await page.click('form:has(input[value=retention-purge]) button[type=submit]');
    await page.waitForSelector(`p.notice:has-text("${english['settings.purge.wouldRemove']}")`);
    await page.waitForSelector('[data-testid=purges] tbody tr');
    expect(await page.textContent('[data-testid=purges] tbody tr')).toContain(english['retention.dry']);
    await stack.screenshot(page, 'retention-02-settings');

    await page.selectOption('#language', 'pt-BR');
    await page.click('.inline-form button[type=submit]');
    await page.waitForSelector('html[lang="pt-BR"]');
    await page.goto(`${stack.webUrl}/runs/${encodeURIComponent(runId)}`);
    await page.waitForSelector('[data-testid=held-badge]');
    expect(await page.textContent('[data-testid=held-badge]')).toBe(portuguese['run.held']);
    await page.click(`button:has-text("${portuguese['run.release']}")`);
    await page.waitForSelector(`p.notice:has-text("${portuguese['run.releaseDone'].slice(0, 20)}")`);
    await page.waitForSelector('[data-testid=held-badge]', { state: 'detached' });
    expect(await stack.api('GET', `/runs/${encodeURIComponent(runId)}`, undefined, token)).not.toHaveProperty('hold');
    await stack.screenshot(page, 'retention-03-released-pt-BR');
  }, 120_000);
});
