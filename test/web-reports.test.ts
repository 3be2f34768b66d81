// Browser test of the Reports page (Chromium through playwright-core) against
// the stack as `npm start` runs it: the nav leads to it, the success rate per
// runbook is drawn, the CSV and PDF download, and the page and the PDF are in
// Portuguese once the user picks it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { messages } from '../web/app/i18n/index.js';
import { writeManifests } from './files.js';
import { waitFor } from './wait.js';
import { ADMIN, signIn, startWebStack, type WebStack } from './web-stack.js';

const manifests = {
  'report-demo': `
name: report-demo
title: Report demo
environments: [dev]
steps:
  - id: say
    action: core.noop
`,
};

let stack: WebStack;

beforeAll(async () => {
  stack = await startWebStack(writeManifests(manifests), inject('temporalAddress'));
  const { accessToken } = await stack.api<{ accessToken: string }>('POST', '/auth/login', ADMIN);
  for (let index = 0; index < 2; index += 1) {
    const { id } = await stack.api<{ id: string }>('POST', '/runbooks/report-demo/execute', { environment: 'dev', inputs: {} }, accessToken);
    await waitFor(async () => /^(COMPLETED|succeeded)$/.test((await stack.api<{ status: string }>('GET', `/runs/${encodeURIComponent(id)}`, undefined, accessToken)).status), {
      message: 'the run never succeeded',
    });
  }
}, 180_000);

afterAll(async () => stack?.stop());

describe('the reports page', () => {
  it('charts the success rate per runbook and downloads the report as CSV and PDF, in English then in Portuguese', async () => {
    const english = messages.en;
    const portuguese = messages['pt-BR'];
    const page = await signIn(stack.browser, stack.webUrl, ADMIN.email, ADMIN.password);
    await page.click(`nav >> text=${english['nav.reports']}`);
    await page.waitForURL('**/reports');
    await page.waitForSelector('.reports-page');
    expect(await page.textContent('h1')).toBe(english['reports.title']);
    const row = await page.textContent('table tbody tr');
    expect(row).toContain('report-demo');
    expect(row).toContain('100.0%');
    expect(await page.$$eval('[data-testid=success-rate-chart] rect', (bars) => bars.length)).toBe(1);
    await stack.screenshot(page, 'reports-01-en');

    const [csv] = await Promise.all([page.waitForEvent('download'), page.click(`text=${english['reports.downloadCsv']}`)]);
    const lines = readFileSync((await csv.path())!, 'utf8').split('\r\n');
    expect(lines[0]).toMatch(/^runbook,environment,runs,succeeded,/);
    expect(lines[1]).toMatch(/^report-demo,dev,2,2,0,0,0,1,/);

    await page.goto(`${stack.webUrl}/settings`);
    await page.selectOption('#language', 'pt-BR');
    await page.click('.inline-form button[type=submit]');
    await page.waitForSelector('html[lang="pt-BR"]');
    await page.goto(`${stack.webUrl}/reports`);
    await page.waitForSelector('.reports-page');
    expect(await page.textContent('h1')).toBe(portuguese['reports.title']);
    expect(await page.textContent('table thead')).toContain(portuguese['reports.successRate']);
    const [pdf] = await Promise.all([page.waitForEvent('download'), page.click(`text=${portuguese['reports.downloadPdf']}`)]);
    const file = (await pdf.path())!;
    expect(execFileSync('pdfinfo', [file], { encoding: 'utf8' })).toMatch(/^Pages:\s+1$/m);
    const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
    expect(text).toContain('Relatório de execuções');
    expect(text).toMatch(/report-demo\s+dev\s+2\s+2\s+0\s+100\.0%/);
    await stack.screenshot(page, 'reports-02-pt-BR');
  });
});
