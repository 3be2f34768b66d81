// The runbook start form drawn from input schemas shaped like SchemaStore's
// (draft-04 to 2020-12: refs, variants, allOf, maps, repeatable items, mixed
// enums, nullable fields, formats), filled in Chromium like a user would, and
// the run's recorded input compared with the exact instance expected.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PROJECT_ROOT } from '../config/env.js';
import { writeManifests } from './files.js';
import { ADMIN, signIn, startWebStack, type WebStack } from './web-stack.js';

const PASSWORD = 'schema form password 1';
const OPERATOR = 'olivia@example.org';

const fixture = (file: string) => readFileSync(path.join(PROJECT_ROOT, 'test', 'fixtures', 'input-schemas', file), 'utf8');

// JSON is YAML: each fixture schema goes into its manifest as it is.
const manifest = (name: string, schemaFile: string) => `
name: ${name}
title: ${name}
environments: [dev]
inputs: ${fixture(schemaFile).replace(/\n\s*/g, ' ')}
steps:
  - id: done
    action: core.noop
`;

const manifests = {
  'service-deploy': manifest('service-deploy', 'draft-04-service.json'),
  'sync-job': manifest('sync-job', '2020-12-sync.json'),
  'cluster-create': manifest('cluster-create', 'draft-07-cluster.json'),
  'maintenance-window': manifest('maintenance-window', 'mixed-scalars.json'),
  'backup-plan': manifest('backup-plan', '2019-09-backup.json'),
};

let stack: WebStack;
let token = '';
let page: Page;

beforeAll(async () => {
  stack = await startWebStack(writeManifests(manifests), inject('temporalAddress'));
  token = (await stack.api<{ accessToken: string }>('POST', '/auth/login', ADMIN)).accessToken;
  const user = await stack.api<{ id: string }>('POST', '/users', { email: OPERATOR, name: 'olivia', password: PASSWORD }, token);
  await stack.api('POST', `/users/${user.id}/grants`, { environment: 'dev', role: 'operator' }, token);
  page = await signIn(stack.browser, stack.webUrl, OPERATOR, PASSWORD);
}, 180_000);

afterAll(async () => stack?.stop());

/** Opens a runbook's start form once React has hydrated it (its add buttons and variant choosers need it). */
async function openForm(runbook: string): Promise<void> {
  await page.goto(`${stack.webUrl}/runbooks/${runbook}`);
  await page.waitForSelector('html[data-hydrated=true] .schema-form');
}

/** Submits the form, waits for the run page, and returns the inputs the API recorded for the run. */
async function startAndReadInputs(runbook: string): Promise<Record<string, unknown>> {
  await stack.screenshot(page, `schema-form-${runbook}`);
  await Promise.all([page.waitForURL(new RegExp(`/runs/${runbook}(@|%40)`)), page.click('.schema-form button[type=submit]')]);
  const id = decodeURIComponent(page.url().split('/runs/')[1]!);
  const recorded = await stack.api<{ inputs: Record<string, unknown> }>('GET', `/runs/${encodeURIComponent(id)}/inputs`, undefined, token);
  return recorded.inputs;
}

const optionLabels = (selector: string) => page.$$eval(`${selector} option`, (options) => options.map((option) => option.textContent));

describe('the runbook start form drawn from real-world input schemas', () => {
  it('follows draft-04 ids and definitions, edits a recursive ref as JSON, and refuses to start while that JSON does not parse', async () => {
    await openForm('service-deploy');
    await page.fill('#field-service', 'billing');
    await page.fill('#field-target-host', 'billing.internal');
    expect(await page.inputValue('#field-target-port')).toBe('443');
    // The optional fallback, reached through a ref spelled with the schema's id, is drawn and left alone.
    expect(await page.inputValue('#field-fallback-port')).toBe('443');
    await page.fill('#field-menu-label', 'Home');
    await page.click('#field-menu-children-_add');
    // A menu inside a menu: the recursion is a JSON editor, checked as the user types.
    expect(await page.evaluate(() => document.querySelector('#field-menu-children-0')?.tagName)).toBe('TEXTAREA');
    await page.fill('#field-menu-children-0', '{"label": "Docs",');
    await expect.poll(() => page.textContent('#field-menu-children-0-error')).toContain('Not valid JSON');

    await page.click('.schema-form button[type=submit]');
    await page.waitForSelector('.schema-form .form-problems');
    expect(await page.textContent('.schema-form .form-problems')).toContain('Nothing was started');
    expect(page.url()).toMatch(/\/runbooks\/service-deploy$/);
    expect(await page.getAttribute('#field-menu-children-0', 'aria-invalid')).toBe('true');
    expect(await stack.api<unknown[]>('GET', '/runs?runbook=service-deploy', undefined, token)).toEqual([]);

    await page.fill('#field-menu-children-0', '{"label": "Docs", "children": []}');
    await page.waitForSelector('#field-menu-children-0-error', { state: 'detached' });
    expect(await startAndReadInputs('service-deploy')).toEqual({
      service: 'billing',
      target: { host: 'billing.internal', port: 443 },
      menu: { label: 'Home', children: [{ label: 'Docs', children: [] }] },
    });
  });

  it('refuses JSON that does not parse on the server too, when the browser runs no script', async () => {
    const context = await stack.browser.newContext({ javaScriptEnabled: false });
    const bare = await context.newPage();
    await bare.goto(`${stack.webUrl}/login`);
    await bare.fill('#email', OPERATOR);
    await bare.fill('#password', PASSWORD);
    await Promise.all([bare.waitForURL('**/dashboard'), bare.click('button[type=submit]')]);
    await bare.goto(`${stack.webUrl}/runbooks/cluster-create`);
    await bare.fill('#field-extra', '{"retries": 3,');
    await Promise.all([bare.waitForLoadState('load'), bare.click('.schema-form button[type=submit]')]);
    await bare.waitForSelector('.schema-form .form-problems');
    expect(await bare.textContent('#field-extra-error')).toContain('Not valid JSON');
    expect(bare.url()).toMatch(/\/runbooks\/cluster-create$/);
    expect(await stack.api<unknown[]>('GET', '/runs?runbook=cluster-create', undefined, token)).toEqual([]);
    await context.close();
  });

  it('chooses a 2020-12 oneOf variant (string or object through $defs) and fills additionalProperties maps row by row', async () => {
    await openForm('sync-job');
    expect(await optionLabels('#field-source-_variant')).toEqual(['Local path', 'Git repository']);
    await page.selectOption('#field-source-_variant', { label: 'Git repository' });
    // The browser does not check formats: the API's refusal lands next to the field, inside the chosen variant.
    await page.fill('#field-source-repository', 'not a url');
    await page.click('.schema-form button[type=submit]');
    await expect.poll(() => page.textContent('#field-source-repository-error')).toContain('uri');
    expect(page.url()).toMatch(/\/runbooks\/sync-job$/);
    await page.fill('#field-source-repository', 'https://git.example.org/ops.git');
    await page.fill('#field-source-branch', 'main');
    await page.fill('#field-source-depth', '1');
    await page.click('#field-labels-_add');
    await page.click('#field-labels-_add');
    await page.fill('#field-labels-0-_key', 'team');
    await page.fill('#field-labels-0', 'ops');
    await page.fill('#field-labels-1-_key', 'tier');
    await page.fill('#field-labels-1', 'gold');
    // The map's default is its first row.
    expect(await page.inputValue('#field-limits-0-_key')).toBe('cpu');
    expect(await page.inputValue('#field-limits-0')).toBe('2');
    await page.click('#field-limits-_add');
    await page.fill('#field-limits-1-_key', 'memory');
    await page.fill('#field-limits-1', '512');
    expect(await startAndReadInputs('sync-job')).toEqual({
      source: { repository: 'https://git.example.org/ops.git', branch: 'main', depth: 1 },
      labels: { team: 'ops', tier: 'gold' },
      limits: { cpu: 2, memory: 512 },
    });

    // The string variant sends a plain string; a required map with no rows is an empty object.
    await openForm('sync-job');
    await page.fill('#field-source', '/srv/data');
    expect(await startAndReadInputs('sync-job')).toEqual({ source: '/srv/data', labels: {}, limits: { cpu: 2 } });
  });

  it('repeats draft-07 array items as sub-forms, and prefills object and array defaults with their types', async () => {
    await openForm('cluster-create');
    // Object and array defaults fill their sub-forms and JSON editors, never "[object Object]".
    expect(await page.inputValue('#field-network-cidr')).toBe('10.0.0.0/16');
    expect(await page.inputValue('#field-network-mtu')).toBe('1450');
    expect([await page.inputValue('#field-tags-0'), await page.inputValue('#field-tags-1')]).toEqual(['prod', 'eu']);
    expect(JSON.parse(await page.inputValue('#field-extra'))).toEqual({ retries: 3, backoff: [1, 2] });
    // A required object without properties is a JSON editor that starts as {}.
    expect(await page.inputValue('#field-settings')).toBe('{}');
    expect(await page.textContent('.schema-form')).not.toContain('[object Object]');

    for (let added = 0; added < 3; added += 1) await page.click('#field-nodes-_add');
    await page.fill('#field-nodes-0-name', 'a');
    expect(await page.inputValue('#field-nodes-0-cpus')).toBe('2');
    expect(await page.inputValue('#field-nodes-0-roles-0')).toBe('worker');
    await page.fill('#field-nodes-1-name', 'b');
    await page.fill('#field-nodes-1-cpus', '4');
    await page.selectOption('#field-nodes-1-roles-0', 'control');
    await page.fill('#field-nodes-2-name', 'c');
    await page.click('#field-nodes-2-_remove');
    await page.waitForSelector('#field-nodes-2-name', { state: 'detached' });
    await page.click('#field-tags-_add');
    await page.fill('#field-tags-2', 'blue');
    expect(await startAndReadInputs('cluster-create')).toEqual({
      nodes: [
        { name: 'a', cpus: 2, roles: ['worker'] },
        { name: 'b', cpus: 4, roles: ['control'] },
      ],
      network: { cidr: '10.0.0.0/16', mtu: 1450 },
      tags: ['prod', 'eu', 'blue'],
      extra: { retries: 3, backoff: [1, 2] },
      settings: {},
    });
  });

  it('keeps mixed enum types, consts, nulls and formats, and leaves an untouched optional boolean out', async () => {
    await openForm('maintenance-window');
    expect(await page.textContent('#field-kind')).toBe('"maintenance"');
    expect(await optionLabels('#field-workers')).toEqual(['1', 'auto', 'null']);
    await page.selectOption('#field-workers', { label: '1' });
    expect(await page.getAttribute('#field-owner', 'type')).toBe('email');
    expect(await page.getAttribute('#field-day', 'type')).toBe('date');
    expect(await page.getAttribute('#field-startsAt', 'type')).toBe('datetime-local');
    expect(await page.getAttribute('#field-runbookUrl', 'type')).toBe('url');
    expect(await optionLabels('#field-notify')).toEqual(['Not set', 'Yes', 'No']);
    expect(await page.inputValue('#field-notify')).toBe('');
    expect(await page.isChecked('#field-note-_null')).toBe(true);
    await page.fill('#field-owner', 'ops@example.org');
    await page.fill('#field-approver', 'alice');
    await page.check('#field-ticket-_null');
    await page.waitForSelector('#field-ticket', { state: 'detached' });
    await page.fill('#field-day', '2026-12-24');
    await page.fill('#field-startsAt', '2026-12-24T22:30');
    await page.fill('#field-runbookUrl', 'https://wiki.example.org/maintenance');
    expect(await startAndReadInputs('maintenance-window')).toEqual({
      kind: 'maintenance',
      workers: 1,
      retention: 30,
      owner: 'ops@example.org',
      approver: 'alice',
      ticket: null,
      note: null,
      day: '2026-12-24',
      startsAt: '2026-12-24T22:30:00Z',
      runbookUrl: 'https://wiki.example.org/maintenance',
      force: false,
      window: 60,
      ratio: 0.5,
    });
  });

  it('merges a 2019-09 allOf into one form and chooses anyOf variants by their titles', async () => {
    await openForm('backup-plan');
    await page.fill('#field-name', 'nightly');
    expect(await page.inputValue('#field-schedule')).toBe('0 3 * * *');
    expect(await page.inputValue('#field-keep')).toBe('7');
    expect(await optionLabels('#field-destination-_variant')).toEqual(['Local folder', 'S3 bucket']);
    await page.selectOption('#field-destination-_variant', { label: 'S3 bucket' });
    expect(await page.textContent('#field-destination-type')).toBe('"s3"');
    await page.fill('#field-destination-bucket', 'backups');
    expect(await optionLabels('#field-compression-_variant')).toEqual(['Level', 'On or off']);
    await page.fill('#field-compression', '6');
    expect(await startAndReadInputs('backup-plan')).toEqual({
      name: 'nightly',
      schedule: '0 3 * * *',
      keep: 7,
      destination: { type: 's3', bucket: 'backups' },
      compression: 6,
    });
  });

  it('labels every control it draws and speaks Portuguese once chosen', async () => {
    for (const runbook of Object.keys(manifests)) {
      await openForm(runbook);
      const unlabelled = await page.$$eval('.schema-form input:not([type=hidden]), .schema-form select, .schema-form textarea', (controls) =>
        controls.filter((control) => !(control as HTMLInputElement).labels?.length).map((control) => control.outerHTML.slice(0, 80)),
      );
      expect({ runbook, unlabelled }).toEqual({ runbook, unlabelled: [] });
    }
    await page.goto(`${stack.webUrl}/settings`);
    await page.selectOption('#language', 'pt-BR');
    await page.click('.inline-form button[type=submit]');
    await page.waitForSelector('html[lang="pt-BR"]');
    await openForm('maintenance-window');
    expect(await optionLabels('#field-notify')).toEqual(['Não definido', 'Sim', 'Não']);
    expect(await page.textContent('label[for="field-approver-_null"]')).toBe('Definir approver como nulo');
    expect(await page.textContent('label[for="field-ticket-_null"]')).toBe('Definir Ticket como nulo');
    await openForm('sync-job');
    expect(await page.textContent('label[for="field-source-_variant"]')).toBe('Que tipo de valor');
    expect(await page.textContent('#field-labels-_add')).toBe('Adicionar entrada');
  });
});
