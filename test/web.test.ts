// Browser tests of the web app (Chromium through playwright-core) against the
// stack as `npm start` runs it.
import Docker from 'dockerode';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadEnv, PROJECT_ROOT } from '../config/env.js';
import { totpCode } from '../security/totp.js';
import { messages } from '../web/app/i18n/index.js';
import { scratchDir, writeManifests } from './files.js';
import { ADMIN, signIn, startWebStack, tabTo, type WebStack } from './web-stack.js';

const PASSWORD = 'browser password 1';
const work = scratchDir();
const flag = path.join(work, 'fixed.flag');
const manifests = {
  'deploy-stack': readFileSync(path.join(PROJECT_ROOT, 'runbooks', 'deploy-stack.yaml'), 'utf8'),
  'deploy-demo': `
name: deploy-demo
title: Deploy the demo service
description: Prints its work, waits for an approver, then applies.
category: deploy
environments: [dev]
inputs:
  type: object
  required: [version]
  properties:
    version: { type: string, title: Version, pattern: '^v[0-9]+\\.[0-9]+$', description: 'A tag like v1.2' }
    replicas: { type: integer, minimum: 1, maximum: 10, default: 2, description: How many containers }
    strategy: { type: string, enum: [rolling, recreate], default: rolling }
    token: { type: string, format: password, description: Registry token }
    dryRun: { type: boolean, title: Dry run }
steps:
  - id: prepare
    action: shell.run
    with: { command: 'for i in 1 2 3 4 5; do echo "preparing $1 part $i"; sleep 0.2; done', shell: true, args: ["\${{ inputs.version }}"] }
  - id: gate
    approval: { role: approver }
  - id: apply
    action: shell.run
    with: { command: 'echo "applied $1"', shell: true, args: ["\${{ inputs.version }}"] }
`,
  'needs-flag': `
name: needs-flag
title: Fails until a flag exists
category: maintenance
environments: [dev]
steps:
  - id: first
    action: core.noop
  - id: check
    action: shell.run
    with: { command: 'test -f "${flag}" && echo "flag found" || { echo "flag missing"; exit 1; }', shell: true }
    retry: { maxAttempts: 1 }
  - id: last
    action: core.noop
`,
  'broken-probe': `
name: broken-probe
title: A probe that always fails
category: maintenance
environments: [dev]
steps:
  - id: probe
    action: shell.run
    with: { command: 'echo "probing cache-7"; echo "ERROR: cache-7 answered 503"; exit 1', shell: true }
    retry: { maxAttempts: 1 }
`,
};

let stack: WebStack;

beforeAll(async () => {
  stack = await startWebStack(writeManifests(manifests), inject('temporalAddress'));
  const { accessToken } = await stack.api<{ accessToken: string }>('POST', '/auth/login', ADMIN);
  for (const [email, roles] of [
    ['alice@example.org', ['operator', 'approver']],
    ['bob@example.org', ['approver']],
  ] as const) {
    const user = await stack.api<{ id: string }>('POST', '/users', { email, name: email.split('@')[0], password: PASSWORD }, accessToken);
    for (const role of roles) await stack.api('POST', `/users/${user.id}/grants`, { environment: 'dev', role }, accessToken);
  }
}, 180_000);

afterAll(async () => stack?.stop());

describe('the web app', () => {
  it('launches a runbook from its form, streams logs, gets a second user’s approval, resumes a failed run, and signs out', async () => {
    // Sign in with the keyboard only.
    const context = await stack.browser.newContext({ viewport: { width: 1440, height: 900 } });
    const alice = await context.newPage();
    await alice.goto(`${stack.webUrl}/login`);
    await stack.screenshot(alice, '01-login');
    await alice.keyboard.type('alice@example.org'); // the email field has focus on arrival
    await alice.keyboard.press('Tab');
    await alice.keyboard.type(PASSWORD);
    await Promise.all([alice.waitForURL('**/dashboard'), alice.keyboard.press('Enter')]);
    await expect.poll(() => alice.textContent('[data-testid=signed-in-user]')).toBe('alice@example.org');
    await stack.screenshot(alice, '02-dashboard');

    // The generated form: a wrong version is refused next to its field, then fixed.
    await alice.goto(`${stack.webUrl}/runbooks`);
    await alice.click('text=Deploy the demo service');
    await alice.waitForURL('**/runbooks/deploy-demo');
    expect(await alice.getAttribute('#field-token', 'type')).toBe('password');
    expect(await alice.inputValue('#field-replicas')).toBe('2');
    expect(await alice.$$eval('#field-strategy option', (options) => options.map((option) => option.textContent))).toEqual(['—', 'rolling', 'recreate']);
    expect(await alice.inputValue('#field-strategy')).toBe('rolling');
    await tabTo(alice, '#field-version');
    await alice.keyboard.type('1.2');
    await tabTo(alice, '.schema-form button[type=submit]');
    await alice.keyboard.press('Enter');
    await expect.poll(() => alice.textContent('#field-version-error')).toContain('expected format');
    await stack.screenshot(alice, '03-form-error');
    await alice.fill('#field-version', 'v1.2');
    await alice.fill('#field-token', 'registry-secret-123');
    await Promise.all([alice.waitForURL(/\/runs\/deploy-demo(@|%40)/), alice.click('.schema-form button[type=submit]')]);
    const runUrl = alice.url();

    // Logs arrive live; the starter cannot approve.
    await alice.waitForSelector('.log-lines >> text=preparing v1.2 part 1');
    await alice.waitForSelector('.log-lines >> text=preparing v1.2 part 5');
    await alice.waitForSelector('.approval-panel');
    expect(await alice.isDisabled('.approval-panel button[value=approve]')).toBe(true);
    expect(await alice.textContent('.approval-panel')).toContain('another person must approve it');
    await stack.screenshot(alice, '04-run-waiting');

    // Bob approves with the keyboard; Alice sees the run succeed.
    const bob = await signIn(stack.browser, stack.webUrl, 'bob@example.org', PASSWORD);
    await bob.goto(runUrl);
    await bob.waitForSelector('.approval-panel button[value=approve]:not([disabled])');
    await tabTo(bob, '.approval-panel textarea');
    await bob.keyboard.type('looks good');
    await tabTo(bob, '.approval-panel button[value=approve]');
    await bob.keyboard.press('Enter');
    await alice.waitForSelector('.log-lines >> text=applied v1.2', { timeout: 20_000 });
    await alice.waitForSelector('.run-header .status-completed', { timeout: 20_000 });
    await stack.screenshot(alice, '05-run-succeeded');
    await bob.context().close();

    // A failing run, resumed from its failed step once the cause is fixed.
    await alice.goto(`${stack.webUrl}/runbooks/needs-flag`);
    await Promise.all([alice.waitForURL(/\/runs\/needs-flag(@|%40)/), alice.click('.schema-form button[type=submit]')]);
    await alice.waitForSelector('.run-header .status-failed', { timeout: 20_000 });
    await alice.waitForSelector('.log-lines >> text=flag missing');
    await stack.screenshot(alice, '06-run-failed');
    writeFileSync(flag, 'fixed');
    await alice.click('button[value=resume]');
    await alice.waitForSelector('.run-header .status-completed', { timeout: 20_000 });
    await alice.waitForSelector('.log-lines >> text=flag found');
    await stack.screenshot(alice, '07-run-resumed');

    // Step arguments and outputs, with the secret masked.
    await alice.goto(runUrl);
    await alice.click('summary:has-text("Step outputs and errors")');
    await alice.waitForSelector('.step-row:has-text("applied v1.2")');
    expect(await alice.textContent('.step-table')).not.toContain('registry-secret-123');

    // A second deploy with another version: its inputs compared with the first run's, then cancelled.
    const firstId = runUrl.split('/runs/')[1]!;
    await alice.goto(`${stack.webUrl}/runbooks/deploy-demo`);
    await alice.fill('#field-version', 'v1.3');
    await alice.fill('#field-token', 'registry-secret-456');
    await Promise.all([alice.waitForURL(/\/runs\/deploy-demo(@|%40)/), alice.click('.schema-form button[type=submit]')]);
    await alice.click('summary:has-text("Inputs")');
    await alice.fill('#compare-run', decodeURIComponent(firstId));
    await alice.click('button:has-text("Compare")');
    await alice.waitForSelector('.diff tr.changed:has-text("version")');
    const diff = await alice.textContent('.diff');
    expect(diff).toContain('v1.3');
    expect(diff).toContain('v1.2');
    expect(diff).not.toContain('registry-secret');
    expect(await alice.$$eval('.diff tr.changed td:first-child', (cells) => cells.map((cell) => cell.textContent))).toEqual(['version']);
    await stack.screenshot(alice, '08-inputs-diff');
    await alice.click('button[value=cancel]');
    await alice.waitForSelector('.run-header .status-cancelled', { timeout: 20_000 });

    await Promise.all([alice.waitForURL('**/login'), alice.click('text=Sign out')]);
    await alice.goto(`${stack.webUrl}/dashboard`);
    expect(alice.url()).toContain('/login');
    await context.close();
  });

  it('lays out the login page as hero 60 % and form 40 % on a desktop, stacked on a phone', async () => {
    for (const [name, viewport] of [
      ['desktop', { width: 1440, height: 900 }],
      ['phone', { width: 390, height: 844 }],
    ] as const) {
      const context = await stack.browser.newContext({ viewport });
      const page = await context.newPage();
      await page.goto(`${stack.webUrl}/login`);
      const hero = (await (await page.$('.login-hero'))!.boundingBox())!;
      const form = (await (await page.$('.login-panel'))!.boundingBox())!;
      if (name === 'desktop') {
        expect(Math.round((hero.width / viewport.width) * 100)).toBe(60);
        expect(Math.round((form.width / viewport.width) * 100)).toBe(40);
        expect(form.x).toBeGreaterThanOrEqual(hero.width - 1);
      } else {
        expect(hero.width).toBe(viewport.width);
        expect(form.width).toBe(viewport.width);
        expect(form.y).toBeGreaterThanOrEqual(hero.y + hero.height - 1);
      }
      for (const field of ['#email', '#password']) expect(await page.$eval(`label[for="${field.slice(1)}"]`, (label) => label.textContent)).toBeTruthy();
      await stack.screenshot(page, `login-${name}`);
      await context.close();
    }
  });

  it('speaks Portuguese on every page once chosen, with no English string left', async () => {
    const english = messages.en;
    const portuguese = messages['pt-BR'];
    const untranslatable = new Set(Object.keys(english).filter((key) => english[key as keyof typeof english] === portuguese[key as keyof typeof portuguese]));
    const englishOnly = new Set(Object.entries(english).filter(([key, text]) => !untranslatable.has(key) && !text.includes('{')).map(([, text]) => text));
    const page = await signIn(stack.browser, stack.webUrl, 'alice@example.org', PASSWORD);
    await page.goto(`${stack.webUrl}/settings`);
    await page.selectOption('#language', 'pt-BR');
    await page.click('.inline-form button[type=submit]');
    await page.waitForSelector('html[lang="pt-BR"]');
    // A run of its own, so the run page is always among the pages checked.
    const { accessToken } = await stack.api<{ accessToken: string }>('POST', '/auth/login', { email: 'alice@example.org', password: PASSWORD });
    const run = await stack.api<{ id: string }>('POST', '/runbooks/broken-probe/execute', { environment: 'dev' }, accessToken);
    const pages = ['/dashboard', '/runbooks', '/runbooks/deploy-demo', '/runs', '/approvals', '/containers', '/stacks', '/infra', '/ai', '/settings', `/runs/${encodeURIComponent(run.id)}`];
    for (const route of pages) {
      await page.goto(`${stack.webUrl}${route}`);
      // The run page once the run has failed: its header, steps and error are on it, not a "not found".
      if (route.startsWith('/runs/')) await page.waitForSelector('.run-header .status-failed', { timeout: 30_000 });
      const texts = await page.evaluate(() => {
        const found: string[] = [];
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        while (walker.nextNode()) {
          const text = walker.currentNode.textContent?.trim();
          if (text) found.push(text);
        }
        for (const element of document.querySelectorAll('[aria-label], [title], [placeholder]')) {
          for (const attribute of ['aria-label', 'title', 'placeholder']) {
            const value = element.getAttribute(attribute);
            if (value) found.push(value.trim());
          }
        }
        return found;
      });
      expect({ route, untranslated: texts.filter((text) => englishOnly.has(text)) }).toEqual({ route, untranslated: [] });
      // Every visible form control has a label (or an accessible name).
      const unlabelled = await page.$$eval('input:not([type=hidden]), select, textarea', (controls) =>
        controls
          .filter((control) => !(control as HTMLInputElement).labels?.length && !control.getAttribute('aria-label') && !control.closest('label'))
          .map((control) => control.outerHTML.slice(0, 80)),
      );
      expect({ route, unlabelled }).toEqual({ route, unlabelled: [] });
      await stack.screenshot(page, `pt-BR-${route.replace(/\W+/g, '-')}`);
    }
    await page.context().close();
  });

  it('lets an admin add a connection whose secret is never shown again, and an approver decide from the inbox', async () => {
    const admin = await signIn(stack.browser, stack.webUrl, ADMIN.email, ADMIN.password);
    await admin.goto(`${stack.webUrl}/settings`);
    await admin.fill('#connection-name', 'build-host');
    await admin.fill('#connection-type', 'ssh');
    await admin.fill('#connection-config', '{"host": "10.0.0.5", "port": 22}');
    await admin.fill('#connection-secret', 'ssh-private-key-material-xyz');
    await admin.click('button:has-text("Save connection")');
    await admin.waitForSelector('[data-testid=connections] td:has-text("build-host")');
    expect(await admin.textContent('[data-testid=connections]')).toContain('stored (hidden)');
    expect(await admin.content()).not.toContain('ssh-private-key-material-xyz');
    await stack.screenshot(admin, '09-connections');
    // Bad settings are refused with a message, and nothing is created.
    await admin.fill('#connection-name', 'broken');
    await admin.fill('#connection-type', 'ssh');
    await admin.fill('#connection-config', '{not json');
    await admin.click('button:has-text("Save connection")');
    await admin.waitForSelector('.error:has-text("not valid JSON")');
    expect(await admin.textContent('[data-testid=connections]')).not.toContain('broken');
    await admin.context().close();

    // A run waiting for approval shows in Bob's inbox, and he approves it there.
    const alice = await signIn(stack.browser, stack.webUrl, 'alice@example.org', PASSWORD);
    await alice.goto(`${stack.webUrl}/runbooks/deploy-demo`);
    await alice.fill('#field-version', 'v2.0');
    await Promise.all([alice.waitForURL(/\/runs\/deploy-demo(@|%40)/), alice.click('.schema-form button[type=submit]')]);
    await alice.waitForSelector('.approval-panel');
    const bob = await signIn(stack.browser, stack.webUrl, 'bob@example.org', PASSWORD);
    await bob.goto(`${stack.webUrl}/approvals`);
    await bob.waitForSelector('.card:has-text("deploy-demo") button[value=approve]');
    expect(await bob.textContent('.topbar .approvals-count .badge')).toBe('1');
    await stack.screenshot(bob, '10-approvals-inbox');
    await bob.click('.card:has-text("deploy-demo") button[value=approve]');
    await bob.waitForSelector('text=Nothing waits for an approval.');
    await alice.waitForSelector('.run-header .status-completed', { timeout: 20_000 });
    await alice.context().close();
    await bob.context().close();
  });

  it('shows a Docker endpoint’s containers by group, their logs, and restarts one through a run', async () => {
    const docker = new Docker({ socketPath: loadEnv().testDockerSocket });
    const name = `jarvis-web-${Math.random().toString(36).slice(2, 8)}`;
    const container = await docker.createContainer({
      name,
      Image: 'jarvis-test/busybox:1',
      Cmd: ['sh', '-c', 'trap "exit 0" TERM; while true; do echo "serving"; sleep 0.5 & wait $!; done'],
      Labels: { 'com.docker.compose.project': 'webshop' },
      HostConfig: { NetworkMode: 'none' },
    });
    await container.start();
    try {
      const { accessToken } = await stack.api<{ accessToken: string }>('POST', '/auth/login', ADMIN);
      await stack.api('POST', '/connections', { environment: 'dev', name: 'engine', type: 'docker', config: { socketPath: loadEnv().testDockerSocket } }, accessToken);
      const alice = await signIn(stack.browser, stack.webUrl, 'alice@example.org', PASSWORD);
      await alice.click('nav >> text=Containers');
      await alice.waitForSelector(`tr[data-container="${name}"]`);
      expect(await alice.textContent('.container-group:has(tr[data-container="' + name + '"]) h2')).toBe('Compose project webshop');
      await alice.click(`tr[data-container="${name}"] >> text=Logs`);
      await alice.waitForSelector('.container-logs >> text=serving');
      // Followed live over the API's socket, with CPU and memory.
      await alice.click(`tr[data-container="${name}"] >> text=Follow`);
      await alice.waitForSelector('#container-follow ~ .virtual-list >> text=serving');
      await alice.waitForSelector('[data-testid=container-stats]:has-text("memory")');
      await stack.screenshot(alice, '11-containers');
      await Promise.all([alice.waitForURL(/\/runs\/container-restart(@|%40)/), alice.click(`button[aria-label="Restart ${name}"]`)]);
      await alice.waitForSelector('.run-header .status-completed', { timeout: 20_000 });
      // A stopped container counts as in error on the dashboard.
      await container.stop();
      await alice.goto(`${stack.webUrl}/dashboard`);
      expect(Number(await alice.textContent('[data-testid=containers-in-error]'))).toBeGreaterThanOrEqual(1);
      await alice.context().close();
    } finally {
      await container.remove({ force: true });
    }
  });

  it('deploys a Compose file from the Stacks page, checked as it is typed, as a deploy-stack run', async () => {
    const docker = new Docker({ socketPath: loadEnv().testDockerSocket });
    // The tag the file's TAG=2 names (swarm.test.ts makes it too; this file must not depend on running after it).
    await docker.getImage('jarvis-test/busybox:1').tag({ repo: 'jarvis-test/busybox', tag: '2' });
    const stackName = `webstack${Math.random().toString(36).slice(2, 6)}`;
    const compose = (field: string) => `services:
  web:
    image: jarvis-test/busybox:\${TAG:-1}
    command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 1 & wait $$!; done']
    ${field}: [GREETING=olá]
    networks: [hostnet]
    deploy: { replicas: 1 }
networks:
  hostnet: { external: true, name: host }
`;
    try {
      const { accessToken } = await stack.api<{ accessToken: string }>('POST', '/auth/login', ADMIN);
      await stack.api('POST', '/connections', { environment: 'dev', name: 'swarm-web', type: 'docker', config: { socketPath: loadEnv().testDockerSocket } }, accessToken);
      const alice = await signIn(stack.browser, stack.webUrl, 'alice@example.org', PASSWORD);
      await alice.click('nav >> text=Stacks');
      // Validation as you type needs React: on a loaded machine the page can be shown well before it is hydrated.
      await alice.waitForSelector('html[data-hydrated=true] #stack-file');
      await alice.selectOption('#stack-endpoint', 'swarm-web');
      await alice.fill('#stack-name', stackName);
      // A typo is reported as it is typed, with its place and the field meant; nothing can be deployed.
      await alice.fill('#stack-file', compose('enviroment'));
      await alice.waitForSelector('.stack-plan [role=alert] >> text=did you mean "environment"');
      expect(await alice.textContent('.stack-plan [role=alert]')).toContain('services.web.enviroment');
      expect(await alice.isDisabled('.stack-form button[type=submit]')).toBe(true);
      // The corrected file, uploaded: the planned service is listed, with the variable applied.
      await alice.setInputFiles('#stack-upload', { name: 'docker-stack.yml', mimeType: 'text/yaml', buffer: Buffer.from(compose('environment')) });
      await alice.fill('#stack-variables', 'TAG=2');
      await alice.waitForSelector(`.stack-plan tr[data-service="${stackName}_web"] >> text=jarvis-test/busybox:2`);
      await stack.screenshot(alice, '12-stacks');
      await expect.poll(() => alice.isDisabled('.stack-form button[type=submit]')).toBe(false);
      await Promise.all([alice.waitForURL(/\/runs\/deploy-stack(@|%40)/), alice.click('.stack-form button[type=submit]')]);
      await alice.waitForSelector('.run-header .status-completed', { timeout: 60_000 });
      const spec = (await docker.getService(`${stackName}_web`).inspect()).Spec;
      expect(spec.TaskTemplate.ContainerSpec.Image).toBe('jarvis-test/busybox:2');
      expect(spec.TaskTemplate.ContainerSpec.Env).toEqual(['GREETING=olá']);
      // The generic runbook form gives the Compose file (contentMediaType text/yaml) several lines too.
      await alice.goto(`${stack.webUrl}/runbooks/deploy-stack`);
      expect(await alice.$eval('#field-stack', (element) => element.tagName)).toBe('TEXTAREA');
      await alice.context().close();
    } finally {
      await docker.getService(`${stackName}_web`).remove().catch(() => undefined);
    }
  }, 120_000);

  it('enrolls a node from the Infra page, shows its agent command once, and counts nodes by status on the dashboard', async () => {
    const admin = await signIn(stack.browser, stack.webUrl, ADMIN.email, ADMIN.password);
    await admin.click('nav >> text=Infra');
    await admin.fill('#enroll-name', 'edge-web');
    await admin.fill('#enroll-labels', 'site=lab');
    await admin.click('button[value=enroll]');
    await admin.waitForSelector('.notice pre >> text=/npx jarvis agent --api \\S+ --token jen_/');
    await admin.waitForSelector('tr[data-node="edge-web"] .status-waiting');
    expect(await admin.textContent('tr[data-node="edge-web"] .tag')).toBe('site=lab');
    await admin.click('tr[data-node="edge-web"] >> text=edge-web');
    await admin.waitForSelector('#node-details');
    await stack.screenshot(admin, '12-infra');
    await admin.click('nav >> text=Dashboard');
    expect(await admin.textContent('[data-testid=nodes-online]')).toBe('0');
    await admin.context().close();
  });

  it('adds a machine reached over SSH from the Infra page, refusing a connection that is not one of its environment', async () => {
    const { accessToken: adminToken } = await stack.api<{ accessToken: string }>('POST', '/auth/login', ADMIN);
    await stack.api('POST', '/connections', { environment: 'dev', name: 'lab-ssh', type: 'ssh', config: { port: 22, user: 'root' }, secret: 'not a key yet' }, adminToken);
    const admin = await signIn(stack.browser, stack.webUrl, ADMIN.email, ADMIN.password);
    await admin.click('nav >> text=Infra');
    const add = async (connection: string) => {
      await admin.fill('#ssh-name', 'lab-db');
      await admin.fill('#ssh-address', '10.20.0.7');
      await admin.fill('#ssh-connection', connection);
      await admin.fill('#ssh-user', 'deploy');
      await admin.fill('#ssh-labels', 'site=lab, role=db');
      await admin.click('button[value=add-ssh]');
    };
    await add('nowhere');
    await admin.waitForSelector('[role=alert] >> text=no connection "nowhere" in dev');
    await add('lab-ssh');
    await admin.waitForSelector('[role=status] >> text=Node lab-db added');
    await admin.click('tr[data-node="lab-db"] >> text=lab-db');
    await admin.waitForSelector('section.node-details >> text=connection lab-ssh, login deploy');
    await admin.context().close();
  });

  it('asks for the one-time code of a TOTP account, and remembers the session only when asked', async () => {
    const { accessToken: adminToken } = await stack.api<{ accessToken: string }>('POST', '/auth/login', ADMIN);
    const tina = await stack.api<{ id: string }>('POST', '/users', { email: 'tina@example.org', name: 'tina', password: PASSWORD }, adminToken);
    await stack.api('POST', `/users/${tina.id}/grants`, { environment: 'dev', role: 'viewer' }, adminToken);
    const { accessToken } = await stack.api<{ accessToken: string }>('POST', '/auth/login', { email: 'tina@example.org', password: PASSWORD });
    const { secret } = await stack.api<{ secret: string }>('POST', '/auth/totp/setup', {}, accessToken);
    const enabled = await fetch(`${stack.apiUrl}/auth/totp/enable`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` }, body: JSON.stringify({ code: totpCode(secret, Date.now() - 30_000) }) });
    // A code works once: turning TOTP on spends the previous step's, the sign-in below uses the current one.
    expect(enabled.status).toBe(204);

    const context = await stack.browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${stack.webUrl}/login`);
    // The password must stay in the form between the two submits: only the hydrated form keeps it.
    await page.waitForSelector('html[data-hydrated=true]');
    await page.fill('#email', 'tina@example.org');
    await page.fill('#password', PASSWORD);
    await page.check('input[name=remember]');
    await page.click('.login-card button[type=submit]');
    await page.waitForSelector('#totp');
    expect(await page.textContent('.login-card .error')).toContain('one-time code');
    await stack.screenshot(page, '12-login-totp');
    await page.fill('#totp', '000000' === totpCode(secret) ? '111111' : '000000');
    await page.click('.login-card button[type=submit]');
    await page.waitForSelector('.login-card .error:has-text("check your email, password and one-time code")');
    await page.fill('#totp', totpCode(secret));
    await Promise.all([page.waitForURL('**/dashboard'), page.click('.login-card button[type=submit]')]);
    const session = (await context.cookies()).find((cookie) => cookie.name === 'jarvis_session');
    expect(session?.httpOnly).toBe(true);
    // "Remember me": the cookie outlives the browser session (a month).
    expect(session!.expires * 1000 - Date.now()).toBeGreaterThan(20 * 24 * 3600 * 1000);
    await context.close();
  });

  it('says when no AI model is configured: a diagnosis and a chat answer come from retrieval, with their sources', async () => {
    const alice = await signIn(stack.browser, stack.webUrl, 'alice@example.org', PASSWORD);
    await alice.goto(`${stack.webUrl}/runbooks/broken-probe`);
    await Promise.all([alice.waitForURL(/\/runs\/broken-probe(@|%40)/), alice.click('.schema-form button[type=submit]')]);
    await alice.waitForSelector('.run-header .status-failed', { timeout: 20_000 });
    await alice.click('[data-testid=diagnose]');
    await alice.waitForSelector('[data-testid=diagnosis] [data-testid=ai-offline]', { timeout: 20_000 });
    expect(await alice.textContent('[data-testid=diagnosis-cause]')).toContain('probe');
    await alice.waitForSelector('[data-testid=diagnosis] .citations li[data-kind=log] a[href*="lines="]');
    await stack.screenshot(alice, '13-diagnosis-offline');
    await alice.click('nav >> text=AI Ops');
    // Said as the page opens, before anything is asked.
    await alice.waitForSelector('.ai-page > [data-testid=ai-offline]');
    await alice.fill('#chat-question', 'What failed in broken-probe?');
    await alice.click('.chat-form button[type=submit]');
    await alice.waitForSelector('.ai-page > [data-testid=ai-offline]', { timeout: 20_000 });
    await alice.waitForSelector('.chat-assistant .feedback');
    await alice.context().close();
  });
});

