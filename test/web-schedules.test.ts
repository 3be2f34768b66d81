// Browser test of the Schedules pages (Chromium through playwright-core)
// against the stack as `npm start` runs it: an operator creates a schedule
// from the form (a missing input and a refused time zone are shown next to
// their fields), sees its next fires, pauses it with a note, resumes it and
// runs it now, in English, then finds the same pages in Portuguese.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { messages } from '../web/app/i18n/index.js';
import { writeManifests } from './files.js';
import { ADMIN, signIn, startWebStack, type WebStack } from './web-stack.js';

const OPERATOR = { email: 'olivia@example.org', password: 'schedule browser password 1' };
const manifests = {
  'nightly-report': `
name: nightly-report
title: Nightly report
description: Writes the nightly report.
category: maintenance
environments: [dev]
inputs:
  type: object
  required: [label]
  properties:
    label: { type: string, title: Label }
steps:
  - id: write
    action: core.noop
`,
};

let stack: WebStack;

beforeAll(async () => {
  stack = await startWebStack(writeManifests(manifests), inject('temporalAddress'));
  const { accessToken } = await stack.api<{ accessToken: string }>('POST', '/auth/login', ADMIN);
  const user = await stack.api<{ id: string }>('POST', '/users', { email: OPERATOR.email, name: 'olivia', password: OPERATOR.password }, accessToken);
  await stack.api('POST', `/users/${user.id}/grants`, { environment: 'dev', role: 'operator' }, accessToken);
}, 180_000);

afterAll(async () => stack?.stop());

/** Every text node and accessible text of the page, to look for English left in a Portuguese page. */
const visibleTexts = (page: Awaited<ReturnType<typeof signIn>>) =>
  page.evaluate(() => {
    const found: string[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const text = walker.currentNode.textContent?.trim();
      if (text) found.push(text);
    }
    for (const element of document.querySelectorAll('[aria-label], [title], [placeholder]'))
      for (const attribute of ['aria-label', 'title', 'placeholder']) {
        const value = element.getAttribute(attribute);
        if (value) found.push(value.trim());
      }
    return found;
  });

describe('the schedules pages', () => {
  it('create a schedule from the form, show its next fires, pause it with a note, resume it and run it now, in English then in Portuguese', async () => {
    const english = messages.en;
    const portuguese = messages['pt-BR'];
    const page = await signIn(stack.browser, stack.webUrl, OPERATOR.email, OPERATOR.password);

    // The nav leads to the page; a schedule with a time zone that does not exist is refused next to that field.
    await page.click(`nav >> text=${english['nav.schedules']}`);
    await page.waitForURL('**/schedules');
    await page.waitForSelector('.schedules-page');
    expect(await page.textContent('h1')).toBe(english['schedules.title']);
    expect(await page.textContent('main')).toContain(english['schedules.none']);
    await page.fill('#schedule-name', 'hourly-report');
    await page.fill('#schedule-description', 'The report, every hour');
    expect(await page.inputValue('#schedule-runbook')).toBe('nightly-report');
    expect(await page.inputValue('#schedule-environment')).toBe('dev');
    await page.check('#schedule-when-interval');
    await page.fill('#schedule-every', '1h');
    await page.fill('#schedule-offset', '5m');
    await page.fill('#schedule-timezone', 'Mars/Olympus_Mons');
    await page.selectOption('#schedule-overlap', 'buffer-one');
    expect(await page.$$eval('#schedule-overlap option', (options) => options.map((option) => option.textContent))).toContain(english['schedules.overlap.terminate-other']);
    // The runbook's required input is checked in the browser first, as on the runbook's own form.
    await page.click('.schedule-form button[type=submit]');
    await expect.poll(() => page.textContent('#field-label-error').catch(() => null)).toBe(english['form.error.required']);
    expect(await page.$('#schedule-timezone-error')).toBeNull();
    await page.fill('#field-label', 'from the browser');
    await page.click('.schedule-form button[type=submit]');
    await expect.poll(() => page.textContent('#schedule-timezone-error').catch(() => null)).toContain('is not a time zone');
    expect(await page.getAttribute('#schedule-timezone', 'aria-invalid')).toBe('true');
    await stack.screenshot(page, 'schedules-01-form-error');

    // Fixed, it is created and shown with its state and next fire times.
    await page.fill('#schedule-timezone', 'America/Sao_Paulo');
    await Promise.all([page.waitForURL(/\/schedules\/[0-9a-f-]{36}$/), page.click('.schedule-form button[type=submit]')]);
    await page.waitForSelector('.schedule-page');
    const scheduleUrl = page.url();
    expect(await page.textContent('h1')).toBe('hourly-report');
    expect(await page.textContent('.schedule-state')).toBe(english['schedules.state.active']);
    expect(await page.textContent('.schedule-definition')).toContain(english['schedules.overlap.buffer-one']);
    expect(await page.textContent('.schedule-definition')).toContain('every 1h (offset 5m)');
    const nextFires = await page.$$eval('.next-fires time', (times) => times.map((time) => ({ iso: time.getAttribute('datetime')!, text: time.textContent! })));
    expect(nextFires.length).toBeGreaterThan(0);
    // Offset 5m: each fire falls five minutes past an hour, shown as a time with digits.
    for (const fire of nextFires) {
      expect(new Date(fire.iso).getUTCMinutes()).toBe(5);
      expect(fire.text).toMatch(/\d{1,2}:05:00/);
    }

    // Listed with its next fires; its name opens it.
    await page.click(`text=${english['schedules.back']}`);
    await page.waitForSelector('.schedules-page');
    const row = 'tr[data-schedule="hourly-report"]';
    expect(await page.$$eval(`${row} .next-fires time`, (times) => times.map((time) => time.textContent))).toEqual(nextFires.slice(0, 3).map((fire) => fire.text));
    expect(await page.textContent(`${row} .schedule-state`)).toBe(english['schedules.state.active']);
    await stack.screenshot(page, 'schedules-02-list');
    await Promise.all([page.waitForURL(scheduleUrl), page.click(`${row} a >> text=hourly-report`)]);
    await page.waitForSelector('.schedule-page');

    // Paused with a note: the state and the note are shown, and no fire is planned; then resumed.
    await page.fill('#pause-note', 'database maintenance until Monday');
    expect(await page.textContent('button[value=pause]')).toBe(english['schedules.pause']);
    await page.click('button[value=pause]');
    await page.waitForSelector('.schedule-state.state-paused');
    expect(await page.textContent('.schedule-status .schedule-note')).toBe('database maintenance until Monday');
    expect(await page.textContent('.schedule-state')).toBe(english['schedules.state.paused']);
    await stack.screenshot(page, 'schedules-03-paused');
    expect(await page.textContent('button[value=unpause]')).toBe(english['schedules.unpause']);
    await page.click('button[value=unpause]');
    await page.waitForSelector('.schedule-state.state-active');
    expect(await page.textContent('.schedule-status .schedule-note')).toContain(OPERATOR.email);

    // Run now: the fire starts a run, linked from the recent fires.
    expect(await page.textContent('button[value=trigger]')).toBe(english['schedules.trigger']);
    await page.click('button[value=trigger]');
    await expect.poll(() => page.textContent('.notice[role=status]').catch(() => null)).toBe(english['schedules.triggered']);
    const runLink = await page.waitForSelector('.fires-table a[href^="/runs/"]', { timeout: 30_000 });
    expect(await runLink.textContent()).toMatch(/^nightly-report@dev/);
    expect(await page.textContent('.fires-table')).toContain(english['schedules.outcome.started']);

    // In Portuguese: the list, the schedule's page and its buttons, with no English string left.
    await page.goto(`${stack.webUrl}/settings`);
    await page.selectOption('#language', 'pt-BR');
    await page.click('.inline-form button[type=submit]');
    await page.waitForSelector('html[lang="pt-BR"]');
    const untranslatable = new Set(Object.keys(english).filter((key) => english[key as keyof typeof english] === portuguese[key as keyof typeof portuguese]));
    const englishOnly = new Set(
      Object.entries(english)
        .filter(([key, text]) => !untranslatable.has(key) && !text.includes('{'))
        .map(([, text]) => text),
    );
    await page.goto(`${stack.webUrl}/schedules`);
    expect(await page.textContent('h1')).toBe(portuguese['schedules.title']);
    expect(await page.textContent('nav')).toContain('Agendamentos');
    expect(await page.textContent('.schedules-table thead')).toContain(portuguese['schedules.nextFires']);
    expect(await page.textContent(`${row} .schedule-state`)).toBe(portuguese['schedules.state.active']);
    expect(await page.textContent(`${row} button[value=trigger]`)).toBe(portuguese['schedules.trigger']);
    expect(await page.textContent('.schedule-form button[type=submit]')).toBe(portuguese['schedules.create']);
    expect(await page.textContent('label[for=schedule-when-interval]')).toBe(portuguese['schedules.kind.interval']);
    expect(await page.$$eval('#schedule-overlap option', (options) => options.map((option) => option.textContent))).toContain(portuguese['schedules.overlap.skip']);
    expect(await page.$$eval(`${row} .next-fires time`, (times) => times.length)).toBeGreaterThan(0);
    expect({ route: '/schedules', untranslated: (await visibleTexts(page)).filter((text) => englishOnly.has(text)) }).toEqual({ route: '/schedules', untranslated: [] });
    await stack.screenshot(page, 'schedules-04-list-pt-BR');

    await page.goto(scheduleUrl);
    expect(await page.textContent('h2 >> nth=1')).toBe(portuguese['schedules.nextFires']);
    expect(await page.textContent('.schedule-definition')).toContain('a cada 1h (deslocamento 5m)');
    await page.fill('#pause-note', 'janela de manutenção');
    expect(await page.textContent('button[value=pause]')).toBe(portuguese['schedules.pause']);
    await page.click('button[value=pause]');
    await page.waitForSelector('.schedule-state.state-paused');
    expect(await page.textContent('.schedule-state')).toBe(portuguese['schedules.state.paused']);
    expect(await page.textContent('.schedule-status .schedule-note')).toBe('janela de manutenção');
    expect(await page.textContent('button[value=unpause]')).toBe(portuguese['schedules.unpause']);
    expect(await page.textContent('button[value=backfill]')).toBe(portuguese['schedules.backfill']);
    expect(await page.textContent('.fires-table')).toContain(portuguese['schedules.outcome.started']);
    expect({ route: scheduleUrl, untranslated: (await visibleTexts(page)).filter((text) => englishOnly.has(text)) }).toEqual({ route: scheduleUrl, untranslated: [] });
    await stack.screenshot(page, 'schedules-05-paused-pt-BR');

    // Deleted after a confirmation: the list is empty again.
    expect(await page.textContent('button[value=delete]')).toBe(portuguese['schedules.delete']);
    page.once('dialog', (dialog) => void dialog.accept());
    await Promise.all([page.waitForURL(/\/schedules$/), page.click('button[value=delete]')]);
    await page.waitForSelector('.schedules-page');
    expect(await page.textContent('main')).toContain(portuguese['schedules.none']);
    await page.context().close();
  });
});
