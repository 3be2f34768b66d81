// Browser test of the runs page's multi-select (Chromium through
// playwright-core) against the stack as `npm start` runs it: an operator
// selects two failed runs and re-runs them as one bulk action.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { messages } from '../web/app/i18n/index.js';
import { writeManifests } from './files.js';
import { waitFor } from './wait.js';
import { ADMIN, signIn, startWebStack, type WebStack } from './web-stack.js';

const OPERATOR = { email: 'oscar@example.org', password: 'bulk browser password 1' };
const manifests = {
  'always-fails': `
name: always-fails
title: Always fails
environments: [dev]
steps:
  - id: fail
    action: shell.run
    with: { command: 'echo "nope"; exit 1', shell: true }
    retry: { maxAttempts: 1 }
`,
};

let stack: WebStack;
let token: string;

beforeAll(async () => {
  stack = await startWebStack(writeManifests(manifests), inject('temporalAddress'));
  const { accessToken } = await stack.api<{ accessToken: string }>('POST', '/auth/login', ADMIN);
  const user = await stack.api<{ id: string }>('POST', '/users', { email: OPERATOR.email, name: 'oscar', password: OPERATOR.password }, accessToken);
  await stack.api('POST', `/users/${user.id}/grants`, { environment: 'dev', role: 'operator' }, accessToken);
  token = (await stack.api<{ accessToken: string }>('POST', '/auth/login', OPERATOR)).accessToken;
}, 180_000);

afterAll(async () => stack?.stop());

const failedRuns = () => stack.api<Array<{ id: string; rerunOf?: string }>>('GET', '/runs?runbook=always-fails&status=failed', undefined, token);

describe('the runs page multi-select', () => {
  it('re-runs the selected runs as one bulk action and shows a result per run', async () => {
    const started = [];
    for (let index = 0; index < 2; index += 1) started.push((await stack.api<{ id: string }>('POST', '/runbooks/always-fails/execute', { environment: 'dev', inputs: {} }, token)).id);
    await waitFor(async () => (await failedRuns()).length === 2, { message: 'both runs to be listed as failed', timeoutMs: 60_000 });

    const english = messages.en;
    const page = await signIn(stack.browser, stack.webUrl, OPERATOR.email, OPERATOR.password);
    await page.goto(`${stack.webUrl}/runs?runbook=always-fails&status=failed`);
    for (const id of started) await page.check(`input[type=checkbox][value="${id}"]`);
    await stack.screenshot(page, 'bulk-runs-01-selected');
    await page.click(`button[value=rerun] >> text=${english['runs.bulk.rerun']}`);
    await expect.poll(() => page.textContent('.notice[role=status] p').catch(() => null), { timeout: 30_000 }).toBe(english['runs.bulk.done.rerun'].replace('{ok}', '2').replace('{count}', '2'));
    const links = await page.$$eval('.notice[role=status] a', (anchors) => anchors.map((anchor) => anchor.textContent));
    expect(links).toHaveLength(2);
    await stack.screenshot(page, 'bulk-runs-02-done');
    const reruns = await waitFor(
      async () => {
        const runs = await stack.api<Array<{ id: string; rerunOf?: string }>>('GET', '/runs?runbook=always-fails', undefined, token);
        return runs.length === 4 ? runs : undefined;
      },
      { message: 'the re-runs to be listed' },
    );
    expect(
      reruns
        .filter((run) => run.rerunOf)
        .map((run) => run.rerunOf)
        .sort(),
    ).toEqual([...started].sort());
  }, 120_000);
});
