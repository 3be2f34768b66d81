// The whole product started as `npm start` starts it (start.ts), on a
// given Temporal server (or its own dev server) and a fresh PostgreSQL
// database, plus a Chromium driven by playwright-core, for browser tests and bench:web.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PROJECT_ROOT } from '../config/env.js';
import { freePort } from '../config/free-port.js';
import { createServerDatabase } from './databases.js';
import { scratchDir } from './files.js';

export const ADMIN = { email: 'admin@example.org', password: 'web admin password 1' };

/** `extraEnv`: more configuration for the stack (the AI tests point it at a local model server). */
export async function startWebStack(runbooksDir: string, temporalAddress?: string, extraEnv: Record<string, string> = {}) {
  const database = await createServerDatabase();
  const [apiPort, webPort] = [await freePort(), await freePort()];
  // Without an address, start.ts starts a dev server of its own on free ports.
  const temporal = temporalAddress
    ? { TEMPORAL_ADDRESS: temporalAddress }
    : { JARVIS_TEMPORAL_PORT: String(await freePort()), JARVIS_TEMPORAL_UI_PORT: String(await freePort()), JARVIS_TEMPORAL_HTTP_PORT: String(await freePort()) };
  const webUrl = `http://127.0.0.1:${webPort}`;
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'start.ts'], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      ...temporal,
      DATABASE_URL: database.url,
      JARVIS_DATA_DIR: scratchDir(),
      JARVIS_TASK_QUEUE: `web-${randomBytes(4).toString('hex')}`,
      JARVIS_RUNBOOKS_DIR: runbooksDir,
      JARVIS_API_PORT: String(apiPort),
      JARVIS_API_URL: apiUrl,
      JARVIS_WEB_PORT: String(webPort),
      JARVIS_CORS_ORIGINS: webUrl,
      // Every browser of the suite signs in from this one machine.
      JARVIS_LOGIN_ATTEMPTS_PER_MINUTE: '1000',
      JARVIS_ADMIN_EMAIL: ADMIN.email,
      JARVIS_ADMIN_PASSWORD: ADMIN.password,
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Web app at')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
  });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const artifacts = path.join(PROJECT_ROOT, '.data', 'test-artifacts', 'web');
  mkdirSync(artifacts, { recursive: true });
  return {
    webUrl,
    apiUrl,
    browser,
    output: () => output,
    /** Saves a screenshot of the page as a test artifact. */
    async screenshot(page: Page, name: string) {
      await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
    },
    async api<T>(method: string, route: string, body?: unknown, token?: string): Promise<T> {
      const response = await fetch(`${apiUrl}${route}`, {
        method,
        headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${await response.text()}`);
      return (await response.json()) as T;
    },
    async stop() {
      await browser.close();
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      await database.drop();
    },
  };
}

export type WebStack = Awaited<ReturnType<typeof startWebStack>>;

export async function signIn(browser: Browser, webUrl: string, email: string, password: string, viewport = { width: 1440, height: 900 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  await page.goto(`${webUrl}/login`);
  await page.fill('#email', email);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL('**/dashboard'), page.click('button[type=submit]')]);
  return page;
}

/** Presses Tab until the element matching the selector has focus (keyboard-only use). */
export async function tabTo(page: Page, selector: string, limit = 60): Promise<void> {
  for (let presses = 0; presses < limit; presses += 1) {
    if (await page.evaluate((wanted) => document.activeElement?.matches(wanted) ?? false, selector)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${selector}`);
}
