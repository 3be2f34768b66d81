// Browser test of the Cooperative page (Chromium through playwright-core)
// against the stack as `npm start` runs it: the balance, a transfer sent from
// the form (sent twice, applied once), the statement with its balance chart
// and its CSV, a vote changed on a proposal, the reputation with its trend,
// in English and then in Portuguese.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { messages } from '../web/app/i18n/index.js';
import { writeManifests } from './files.js';
import { ADMIN, signIn, startWebStack, type WebStack } from './web-stack.js';

let stack: WebStack;

beforeAll(async () => {
  stack = await startWebStack(writeManifests({}), inject('temporalAddress'));
  const { accessToken } = await stack.api<{ accessToken: string }>('POST', '/auth/login', ADMIN);
  await stack.api('POST', '/users', { email: 'member@example.org', name: 'Member', password: 'member password 1' }, accessToken);
  // The admin makes themselves treasurer (audited) and issues their opening credits.
  const granted = await fetch(`${stack.apiUrl}/cooperative/treasurers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
    body: JSON.stringify({ email: ADMIN.email }),
  });
  expect(granted.status).toBe(204);
  await stack.api('POST', '/cooperative/transfers', { from: 'issuance', to: `member:${ADMIN.email}`, amount: 300, memo: 'opening' }, accessToken);
  await stack.api('GET', '/cooperative/accounts/member:member@example.org', undefined, accessToken);
  await stack.api('POST', '/cooperative/proposals', { title: 'Pay steps more', text: 'Steps are work.', votingSeconds: 3600, effect: { kind: 'rates', rates: { creditsPerStep: 3 } } }, accessToken);
}, 180_000);

afterAll(async () => stack?.stop());

describe('the cooperative page', () => {
  it('shows the balance, moves credits once from a form sent twice, charts the statement, takes and changes a vote and shows the reputation trend, in English then in Portuguese', async () => {
    const english = messages.en;
    const portuguese = messages['pt-BR'];
    const page = await signIn(stack.browser, stack.webUrl, ADMIN.email, ADMIN.password);
    await page.click(`nav >> text=${english['nav.cooperative']}`);
    await page.waitForURL('**/cooperative');
    await page.waitForSelector('.cooperative-page');
    expect(await page.textContent('h1')).toBe(english['cooperative.title']);
    expect(await page.textContent('[data-testid=own-balance]')).toContain('300 credits');

    await page.selectOption('select[name=to]', 'member:member@example.org');
    await page.fill('input[name=amount]', '40');
    await page.fill('input[name=memo]', 'thanks');
    const key = await page.inputValue('input[name=key]');
    await page.click(`button:has-text("${english['cooperative.send']}")`);
    await page.waitForSelector('[data-testid=transfer-answer]');
    expect(await page.textContent('[data-testid=transfer-answer]')).toBe(english['cooperative.applied'].replace('{amount}', '40'));
    expect(await page.textContent('[data-testid=own-balance]')).toContain('260 credits');

    // The same form sent again (a resubmitted page) carries the same key: nothing moves.
    const resent = await page.evaluate(
      async ({ key }) => {
        const body = new URLSearchParams({ key, from: 'member:admin@example.org', to: 'member:member@example.org', amount: '40', memo: 'thanks' });
        return (await fetch('/cooperative', { method: 'POST', body })).status;
      },
      { key },
    );
    expect(resent).toBe(200);
    await page.reload();
    expect(await page.textContent('[data-testid=own-balance]')).toContain('260 credits');
    expect(await page.$$eval('[data-testid=balance-chart] circle', (points) => points.length)).toBe(2);
    expect(await page.textContent('[data-testid=statement] tbody')).toContain('member@example.org');
    // A vote, then a changed vote, from the proposal's form.
    const proposal = page.locator('[data-testid=proposals] li', { hasText: 'Pay steps more' });
    await proposal.locator('input[value=yes]').check();
    await proposal.locator('button[type=submit]').click();
    await page.waitForSelector('[data-testid=vote-answer]');
    const yourVote = (vote: 'yes' | 'no') => english['cooperative.yourVote'].replace('{vote}', english[`cooperative.vote.${vote}`]);
    await page.waitForFunction((text) => document.querySelector('[data-testid=proposals] li')?.textContent?.includes(text), yourVote('yes'));
    await proposal.locator('input[value=no]').check();
    await proposal.locator('input[name=reason]').fill('not yet');
    await proposal.locator('button[type=submit]').click();
    await page.waitForFunction((text) => document.querySelector('[data-testid=proposals] li')?.textContent?.includes(text), yourVote('no'));
    expect(await page.textContent('[data-testid=reputation]')).toContain(english['cooperative.component.participation']);
    expect(await page.$$eval('[data-testid=reputation-trend] circle', (points) => points.length)).toBe(8);
    await stack.screenshot(page, 'cooperative-01-en');

    const [csv] = await Promise.all([page.waitForEvent('download'), page.click(`text=${english['cooperative.downloadCsv']}`)]);
    const lines = readFileSync((await csv.path())!, 'utf8')
      .trim()
      .split('\n');
    expect(lines.map((line) => line.split(',').slice(4).join(','))).toEqual(['counterparty,memo,amount,balance_after', 'issuance,opening,300,300', 'member@example.org,thanks,-40,260']);

    await page.goto(`${stack.webUrl}/settings`);
    await page.selectOption('#language', 'pt-BR');
    await page.click('.inline-form button[type=submit]');
    await page.waitForSelector('html[lang="pt-BR"]');
    await page.click(`nav >> text=${portuguese['nav.cooperative']}`);
    await page.waitForSelector('.cooperative-page');
    expect(await page.textContent('h1')).toBe(portuguese['cooperative.title']);
    expect(await page.textContent('[data-testid=own-balance]')).toContain('260 créditos');
    expect(await page.textContent('[data-testid=statement] thead')).toContain(portuguese['cooperative.balanceAfter']);
    expect(await page.textContent('[data-testid=proposals]')).toContain(portuguese['cooperative.yourVote'].replace('{vote}', portuguese['cooperative.vote.no']));
    expect(await page.textContent('[data-testid=proposals]')).toContain(portuguese['cooperative.proposalStatus.voting']);
    expect(await page.textContent('.cooperative-page')).toContain(portuguese['cooperative.reputation']);
    expect(await page.textContent('[data-testid=reputation]')).toContain(portuguese['cooperative.component.participation']);
    await page.click(`[data-testid=accounts] a:has-text("member:member@example.org")`);
    await page.waitForSelector(`h2:has-text("${portuguese['cooperative.statement'].replace('{account}', 'member:member@example.org')}")`);
    expect(await page.$$eval('[data-testid=balance-chart] circle', (points) => points.length)).toBe(1);
    await stack.screenshot(page, 'cooperative-02-pt-BR');
  });
});
