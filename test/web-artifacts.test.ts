// Browser test of a run's artifacts (Chromium through playwright-core)
// against the stack as `npm start` runs it: the run page lists what its step
// published, with size and short sha256, and its link downloads the file
// through the web server with the user's session.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { messages } from '../web/app/i18n/index.js';
import { writeManifests } from './files.js';
import { waitFor } from './wait.js';
import { ADMIN, signIn, startWebStack, type WebStack } from './web-stack.js';

const REPORT = 'disk usage: 42%\n';

const manifests = {
  'disk-report': `
name: disk-report
title: Disk report
environments: [dev]
steps:
  - id: measure
    action: shell.run
    with:
      command: 'printf "disk usage: 42%%\\n" > usage.txt'
      shell: true
      artifacts: [usage.txt]
`,
};

let stack: WebStack;
let runId: string;

beforeAll(async () => {
  stack = await startWebStack(writeManifests(manifests), inject('temporalAddress'));
  const { accessToken } = await stack.api<{ accessToken: string }>('POST', '/auth/login', ADMIN);
  runId = (await stack.api<{ id: string }>('POST', '/runbooks/disk-report/execute', { environment: 'dev', inputs: {} }, accessToken)).id;
  await waitFor(async () => /^(COMPLETED|FAILED)$/.test((await stack.api<{ status: string }>('GET', `/runs/${encodeURIComponent(runId)}`, undefined, accessToken)).status), {
    message: 'the run never ended',
  });
}, 180_000);

afterAll(async () => stack?.stop());

describe('the run page', () => {
  it('lists the artifacts of the run and downloads one through the web server', async () => {
    const english = messages.en;
    const sha256 = createHash('sha256').update(REPORT).digest('hex');
    const page = await signIn(stack.browser, stack.webUrl, ADMIN.email, ADMIN.password);
    await page.goto(`${stack.webUrl}/runs/${encodeURIComponent(runId)}`);
    await page.waitForSelector('[data-testid=run-artifacts]');
    expect(await page.textContent('#artifacts')).toBe(english['run.artifacts']);
    const row = await page.textContent('[data-testid=run-artifacts] tbody tr');
    expect(row).toContain('usage.txt');
    expect(row).toContain('measure#1');
    expect(row).toContain(sha256.slice(0, 12));
    await stack.screenshot(page, 'run-artifacts-01');

    const [download] = await Promise.all([page.waitForEvent('download'), page.click(`[data-testid=run-artifacts] a:has-text("${english['run.artifactDownload']}")`)]);
    expect(download.suggestedFilename()).toBe('usage.txt');
    expect(readFileSync((await download.path())!, 'utf8')).toBe(REPORT);
  }, 120_000);
});
