// Browser test of AI Ops (Chromium through playwright-core) against the stack
// as `npm start` runs it, with a local server speaking OpenAI's API as the
// model: Diagnose on a failed run and its citation opening the cited log
// lines, a streamed chat answer with feedback, and a plan proposed, refused
// when invalid, and submitted as a run that waits for approval.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeChatRequest, type FakeOpenAi, type FakeReply } from './fake-openai.js';
import { writeManifests } from './files.js';
import { ADMIN, signIn, startWebStack, tabTo, type WebStack } from './web-stack.js';

const PASSWORD = 'browser password 1';
const manifests = {
  'orders-migrate': `
name: orders-migrate
title: Migrate the orders database
category: maintenance
environments: [dev]
steps:
  - id: prepare
    action: core.noop
    with: { message: 'schema v42' }
  - id: migrate
    action: shell.run
    with: { command: 'echo "connecting to orders-db:5432"; echo "applying schema v42"; echo "FATAL: connection refused by orders-db:5432"; exit 1', shell: true }
    retry: { maxAttempts: 1 }
`,
};

const CAUSE = 'The orders database refused the connection on port 5432';
const CHAT_ANSWER = 'The migration stopped because orders-db refused connections; check that the database is up before running it again.';

function promptOf(request: FakeChatRequest): string {
  return (request.messages ?? []).map((message) => (typeof message.content === 'string' ? message.content : JSON.stringify(message.content))).join('\n');
}

/** The model's side: a diagnosis citing the step and log sources it was given, plans of catalog actions (or not), and chat text. */
function scriptedModel(request: FakeChatRequest): FakeReply | string {
  const prompt = promptOf(request);
  const properties = (request.response_format?.json_schema?.schema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {};
  if ('cause' in properties) {
    const source = (kind: string) => Number(new RegExp(`\\[(\\d+)\\] ${kind}:`).exec(prompt)?.[1] ?? 1);
    const [step, log] = [source('step'), source('log')];
    return JSON.stringify({ cause: CAUSE, answer: `Step migrate failed [${step}]: its log shows the refused connection [${log}].`, citations: [step, log] });
  }
  if ('steps' in properties) {
    const goal = /Goal: (.*)/.exec(prompt)?.[1] ?? '';
    const action = goal.includes('magic') ? 'magic.fix-everything' : 'core.noop';
    return JSON.stringify({
      summary: 'Check the database, then note the retry.',
      steps: [
        { id: 'check-db', title: 'Check the database', action: 'core.noop', with: { message: 'orders-db up?' } },
        { id: 'retry-note', title: 'Record the retry', action, with: { message: 'retry the migration' } },
      ],
    });
  }
  // The chat answer comes late, so the sources sent before it must show first.
  return { content: CHAT_ANSWER, delayMs: 2_500 };
}

/** Proposes the goal in the plan form and waits for the new plan's page. */
async function propose(page: Page) {
  const before = page.url();
  await Promise.all([page.waitForURL((url) => url.href !== before && url.searchParams.has('plan')), page.click('button[value=propose]')]);
}

let stack: WebStack;
let model: FakeOpenAi;

beforeAll(async () => {
  model = await startFakeOpenAi();
  model.respondToChat(scriptedModel);
  // A Temporal dev server of its own: the jarvis-node-health schedule is one per
  // namespace, and the suite's other stack (test/web.test.ts, another key) would
  // replace this one's while both run.
  stack = await startWebStack(writeManifests(manifests), undefined, { OPENAI_BASE_URL: model.baseUrl, OPENAI_API_KEY: model.apiKey, JARVIS_AI_CHAT_MODEL: 'gpt-fake-1' });
  const { accessToken } = await stack.api<{ accessToken: string }>('POST', '/auth/login', ADMIN);
  const alice = await stack.api<{ id: string }>('POST', '/users', { email: 'alice@example.org', name: 'alice', password: PASSWORD }, accessToken);
  for (const role of ['operator', 'approver']) await stack.api('POST', `/users/${alice.id}/grants`, { environment: 'dev', role }, accessToken);
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await model?.close();
});

describe('AI Ops in the browser', () => {
  it('diagnoses a failed run citing its log lines, streams a chat answer, and submits a plan as a run waiting for approval', async () => {
    const alice = await signIn(stack.browser, stack.webUrl, 'alice@example.org', PASSWORD);

    // A failed run, diagnosed from its page with the keyboard.
    await alice.goto(`${stack.webUrl}/runbooks/orders-migrate`);
    await Promise.all([alice.waitForURL(/\/runs\/orders-migrate(@|%40)/), alice.click('.schema-form button[type=submit]')]);
    const runUrl = alice.url();
    await alice.waitForSelector('.run-header .status-failed', { timeout: 30_000 });
    await alice.waitForSelector('.log-lines >> text=connection refused');
    await tabTo(alice, '[data-testid=diagnose]');
    await alice.keyboard.press('Enter');
    await alice.waitForSelector(`[data-testid=diagnosis-cause]:has-text("${CAUSE}")`, { timeout: 30_000 });
    expect(await alice.textContent('[data-testid=diagnosis]')).toContain('its log shows the refused connection');
    await stack.screenshot(alice, 'ai-01-diagnosis');
    // Thumbs down asks what was wrong before it is sent.
    await alice.click('[data-testid=diagnosis] .feedback button[aria-label="Unhelpful answer"]');
    await alice.fill('[data-testid=diagnosis] .feedback input[name=reason]', 'it missed the replica lag');
    await alice.click('[data-testid=diagnosis] .feedback button[value=down]');
    await alice.waitForSelector('[data-testid=diagnosis] .feedback [role=status] >> text=Thanks');

    // The log citation opens the run at the cited lines, highlighted.
    const logCitation = alice.locator('[data-testid=diagnosis] .citations li[data-kind=log] a');
    const href = (await logCitation.getAttribute('href'))!;
    expect(href).toMatch(/\?step=migrate&lines=\d+-\d+/);
    await Promise.all([alice.waitForURL(/lines=/), logCitation.click()]);
    await alice.waitForSelector('.log-line.cited >> text=FATAL: connection refused by orders-db:5432');
    await alice.waitForSelector('.gantt-row.cited[data-step=migrate]');
    await stack.screenshot(alice, 'ai-02-cited-lines');

    // "Propose a fix" opens the plan panel about this run.
    await alice.goto(runUrl);
    await alice.click('[data-testid=diagnose]');
    await alice.waitForSelector('[data-testid=propose-fix]', { timeout: 30_000 });
    await Promise.all([alice.waitForURL(/\/ai\?/), alice.click('[data-testid=propose-fix]')]);
    const runId = decodeURIComponent(runUrl.split('/runs/')[1]!);
    expect(await alice.inputValue('#plan-run')).toBe(runId);
    expect(await alice.inputValue('#plan-goal')).toContain(CAUSE);
    // A model is configured: no offline banner.
    expect(await alice.$('.ai-page > [data-testid=ai-offline]')).toBeNull();

    // A question answered as a stream, with thumbs up.
    await alice.click('#chat-question');
    await alice.keyboard.type('Why did orders-migrate fail?');
    // The browser reads the stream from the web server, which holds the API token.
    const streamed = alice.waitForResponse((response) => response.url() === `${stack.webUrl}/ai/chat`);
    await alice.keyboard.press('Enter');
    expect((await streamed).headers()['content-type']).toContain('text/event-stream');
    // Events reach the page as the API sends them: the sources, while the model is still answering.
    await alice.waitForSelector('.chat-assistant .citations li[data-kind=log]');
    expect(await alice.textContent('.chat-assistant')).toContain('Looking through runs and incidents');
    await alice.waitForSelector(`.chat-assistant:has-text("${CHAT_ANSWER}")`, { timeout: 30_000 });
    expect(model.requests.some((request) => request.body.stream === true)).toBe(true);
    await alice.click('.chat-assistant button[value=up]');
    await alice.waitForSelector('.chat-assistant .feedback [role=status] >> text=Thanks');
    await stack.screenshot(alice, 'ai-03-chat');

    // A described problem, diagnosed without a run.
    await alice.fill('#describe-text', 'the orders migration cannot reach orders-db on 5432');
    await alice.click('.card:has(#describe) button[type=submit]');
    await alice.waitForSelector(`.card:has(#describe) [data-testid=diagnosis-cause]:has-text("${CAUSE}")`, { timeout: 30_000 });

    // A note joins the knowledge base, and the search finds it.
    await alice.fill('#note-title', 'orders-db refuses connections after a failover');
    await alice.fill('#note-body', 'After a failover orders-db listens only once its replica catches up: wait for pg_is_in_recovery() = false, then rerun orders-migrate.');
    await alice.click('button[value=note]');
    await alice.waitForSelector('.note-form [role=status] >> text=Note added');
    await alice.fill('#ai-search', 'orders-db failover replica');
    await Promise.all([alice.waitForURL(/[?&]q=/), alice.press('#ai-search', 'Enter')]);
    await alice.waitForSelector('[data-testid=search-hits] >> text=orders-db refuses connections after a failover');

    // A postmortem pasted in becomes an incident with its resolution, and the search finds it.
    await alice.selectOption('#incident-format', 'markdown');
    await alice.fill(
      '#incident-content',
      '# Postmortem: checkout lost its database after a password rotation\n\n**Date:** 2026-11-03\n\n## Summary\nFATAL: password authentication failed for user "checkout"\n\n## Resolution\nRotated the password again and redeployed.\n',
    );
    await alice.click('button[value=import-incidents]');
    await alice.waitForSelector('.incident-import [role=status] >> text=1 incident(s) imported, 0 refused.');
    await alice.fill('#ai-search', 'password authentication failed for checkout');
    await Promise.all([alice.waitForURL(/[?&]q=password/), alice.press('#ai-search', 'Enter')]);
    await alice.waitForSelector('[data-testid=search-hits] >> text=checkout lost its database after a password rotation');
    await stack.screenshot(alice, 'ai-03b-incident-imported');

    // A plan with an action outside the catalog is shown with its errors and can't be submitted.
    await alice.fill('#plan-goal', 'magic repair of orders-db');
    await propose(alice);
    await alice.waitForSelector('[data-testid=plan-view] .plan-errors');
    expect(await alice.textContent('.plan-errors')).toContain('magic.fix-everything');
    expect(await alice.isDisabled('button[value=submit]')).toBe(true);
    await alice.waitForSelector('#plan-blocked');

    // A valid one lists its steps and risk, and becomes a run waiting at its approval step.
    await alice.fill('#plan-goal', 'bring orders-db back and retry the migration');
    await propose(alice);
    await alice.waitForSelector('[data-testid=plan-view] tr[data-step=check-db]');
    expect(await alice.textContent('[data-testid=plan-view] tr[data-step=check-db]')).toContain('core.noop');
    expect(await alice.textContent('[data-testid=plan-risk]')).toContain('low risk');
    await stack.screenshot(alice, 'ai-04-plan');
    await Promise.all([alice.waitForURL(/\/runs\/ai-plan-/), alice.click('button[value=submit]:not([disabled])')]);
    await alice.waitForSelector('.approval-panel', { timeout: 30_000 });
    await alice.waitForSelector('.run-header .status-running');
    await stack.screenshot(alice, 'ai-05-plan-run-waiting');
    await alice.context().close();
  });
});
