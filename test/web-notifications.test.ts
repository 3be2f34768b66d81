// The Notifications page in a browser, on the whole product as `npm start`
// runs it: subscribe, create a rule, send a test and read the delivery log,
// in English and in Portuguese.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startFakeChat } from './fake-chat.js';
import { writeManifests } from './files.js';
import { ADMIN, signIn, startWebStack, type WebStack } from './web-stack.js';

let stack: WebStack;
let chat: Awaited<ReturnType<typeof startFakeChat>>;

beforeAll(async () => {
  chat = await startFakeChat();
  stack = await startWebStack(writeManifests({ quick: 'name: quick\ntitle: Quick\nsteps:\n  - id: only\n    action: core.noop\n' }), inject('temporalAddress'));
  const { accessToken } = await stack.api<{ accessToken: string }>('POST', '/auth/login', ADMIN);
  // The local chat server is on loopback: dev allowlists it, as an admin would.
  await stack.api('PUT', '/environments/dev/egress-allowlist', { entries: ['127.0.0.1'] }, accessToken);
  await stack.api('POST', '/connections', { environment: 'dev', name: 'ops-hook', type: 'webhook', config: { url: chat.url('/hooks/web') }, secret: 'web-signing-secret' }, accessToken);
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await chat?.stop();
});

describe('the notifications page', () => {
  it('lets an admin subscribe, create a rule, send a test and see it delivered, in English and in Portuguese', async () => {
    const page = await signIn(stack.browser, stack.webUrl, ADMIN.email, ADMIN.password);
    await page.click('nav >> text=Notifications');
    await page.waitForSelector('h1:has-text("Notifications")');

    await page.selectOption('#subscription-environment', 'dev');
    await page.check('#subscription-run\\.failed');
    await page.click('form:has(#subscription-environment) button[type=submit]');
    await page.waitForSelector('[role=status]:has-text("Subscribed.")');
    expect(await page.textContent('[data-testid=subscriptions]')).toContain('run failed');

    await page.selectOption('#rule-environment', 'dev');
    await page.fill('#rule-name', 'failures to ops');
    await page.check('#rule-run\\.failed');
    await page.selectOption('#rule-locale', 'pt-BR');
    await page.click('form:has(#rule-name) button[type=submit]');
    await page.waitForSelector('[role=status]:has-text("Rule created.")');
    expect(await page.textContent('[data-testid=rules]')).toContain('failures to ops');

    await page.click('[data-testid=rules] button:has-text("Send a test")');
    await page.waitForSelector('[role=status]:has-text("Test sent")');
    await expect.poll(() => chat.to('/hooks/web').length, { timeout: 30_000 }).toBe(1);
    expect(JSON.parse(chat.to('/hooks/web')[0]!.body).subject).toMatch(/^\[teste\] Execução falhou/);
    await page.click('[data-testid=rules] a:has-text("Deliveries")');
    await page.waitForSelector('[data-testid=deliveries] td:has-text("sent")');
    await stack.screenshot(page, 'notifications-en');

    await page.goto(`${stack.webUrl}/settings`);
    await page.selectOption('#language', 'pt-BR');
    await page.click('.inline-form button[type=submit]');
    await page.waitForSelector('html[lang="pt-BR"]');
    await page.click('nav >> text=Notificações');
    await page.waitForSelector('h1:has-text("Notificações")');
    expect(await page.textContent('[data-testid=subscriptions]')).toContain('execução falhou');
    expect(await page.textContent('body')).toContain('Regras dos seus ambientes');
    await stack.screenshot(page, 'notifications-pt-BR');
    await page.context().close();
  });
});
