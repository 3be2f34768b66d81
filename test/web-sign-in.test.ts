// Sign-in hardening of the web server, each attack as a raw HTTP request to
// the stack `npm start` runs: a forged client address, open redirects after
// sign-in, and form actions behind a TLS-terminating proxy. Requests from
// 127.0.0.1 come from a trusted proxy (the default JARVIS_TRUSTED_PROXIES);
// from 127.0.0.2 (also this machine) they come from a stranger.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { writeManifests } from './files.js';
import { ADMIN, signIn, startWebStack, type WebStack } from './web-stack.js';

const PASSWORD = 'web sign-in password 1';
const PROXY = '127.0.0.1';
const STRANGER = '127.0.0.2';

let stack: WebStack;
let adminToken: string;

beforeAll(async () => {
  stack = await startWebStack(writeManifests({}), inject('temporalAddress'));
  adminToken = (await stack.api<{ accessToken: string }>('POST', '/auth/login', ADMIN)).accessToken;
  await stack.api('POST', '/users', { email: 'pat@example.org', name: 'Pat', password: PASSWORD }, adminToken);
}, 180_000);

afterAll(async () => stack?.stop());

interface Answer {
  status: number;
  location: string | undefined;
  body: string;
}

/** A form POST as a browser (or a proxy) sends it, from a chosen local address. */
function postForm(path: string, form: Record<string, string>, options: { from?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const url = new URL(stack.webUrl);
  const body = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: 'POST',
        localAddress: options.from ?? PROXY,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), ...options.headers },
      },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, location: response.headers.location, body: text }));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

async function auditedAddresses(email: string): Promise<string[]> {
  const entries = await stack.api<Array<{ ip: string; action: string }>>('GET', `/audit?actor=${encodeURIComponent(email)}&action=login`, undefined, adminToken);
  return entries.reverse().map((entry) => entry.ip);
}

describe('the client address the web server passes to the API', () => {
  it('is the real peer, whatever X-Jarvis-Client-Address or X-Forwarded-For a stranger sends', async () => {
    const forged = { 'X-Jarvis-Client-Address': '203.0.113.66', 'x-jarvis-client-address': '203.0.113.67', 'X-Forwarded-For': '198.51.100.99' };
    expect((await postForm('/login', { email: 'spoof-1@example.org', password: 'wrong password' }, { from: STRANGER, headers: forged })).status).toBe(401);
    expect((await postForm('/login', { email: 'spoof-1@example.org', password: 'wrong password' }, { from: PROXY, headers: { 'X-Jarvis-Client-Address': '203.0.113.66' } })).status).toBe(401);
    // A trusted proxy (Traefik) is believed, read from the right: the prepended entry is the client's own claim.
    expect((await postForm('/login', { email: 'spoof-1@example.org', password: 'wrong password' }, { from: PROXY, headers: { 'X-Forwarded-For': '203.0.113.66, 198.51.100.7' } })).status).toBe(401);
    expect(await auditedAddresses('spoof-1@example.org')).toEqual([STRANGER, PROXY, '198.51.100.7']);
  });

  it('cannot be changed to dodge the sign-in backoff', async () => {
    const statuses: number[] = [];
    for (let guess = 0; guess < 7; guess += 1) {
      const claimed = `203.0.113.${100 + guess}`;
      const answer = await postForm('/login', { email: 'pat@example.org', password: `guess ${guess}` }, { from: STRANGER, headers: { 'X-Jarvis-Client-Address': claimed, 'X-Forwarded-For': claimed } });
      statuses.push(answer.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    expect(new Set(await auditedAddresses('pat@example.org'))).toEqual(new Set([STRANGER]));
    // Pat, at their own address, is not affected.
    expect((await postForm('/login', { email: 'pat@example.org', password: PASSWORD })).location).toBe('/dashboard');
  });
});

describe('the page after signing in', () => {
  it('is a path on this site only: never another host, however it is spelled', async () => {
    const signInTo = async (next: string) => (await postForm(`/login?next=${next}`, { email: 'pat@example.org', password: PASSWORD })).location;
    expect(await signInTo(encodeURIComponent('/runs?status=failed'))).toBe('/runs?status=failed');
    for (const next of ['/\\evil.example', '/\\\\evil.example', '//evil.example', 'https://evil.example', '%2F%2Fevil.example', '%2F%5Cevil.example', '/%09/evil.example', '%2F.%2F%2Fevil.example', 'javascript:alert(1)']) {
      expect({ next, location: await signInTo(next) }).toEqual({ next, location: '/dashboard' });
    }
  });
});

describe('form actions behind a TLS-terminating proxy', () => {
  const behindProxy = { Origin: 'https://jarvis.example.org', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'jarvis.example.org' };

  it('work when the proxy says the browser asked for https://jarvis.example.org', async () => {
    const answer = await postForm('/login', { email: 'pat@example.org', password: PASSWORD }, { from: PROXY, headers: behindProxy });
    expect(answer.status).toBe(302);
    expect(answer.location).toBe('/dashboard');
  });

  it('are still refused from another origin, and forwarded headers from a stranger count for nothing', async () => {
    expect((await postForm('/login', { email: 'pat@example.org', password: PASSWORD }, { from: PROXY, headers: { Origin: 'https://jarvis.example.org' } })).status).toBe(400);
    expect((await postForm('/login', { email: 'pat@example.org', password: PASSWORD }, { from: PROXY, headers: { ...behindProxy, Origin: 'https://evil.example' } })).status).toBe(400);
    expect((await postForm('/login', { email: 'pat@example.org', password: PASSWORD }, { from: STRANGER, headers: behindProxy })).status).toBe(400);
  });
});

describe('the settings page', () => {
  it('lists and revokes your API tokens, changes your password, and lets an admin disable you (signed out at once) or set your password', async () => {
    const pat = await signIn(stack.browser, stack.webUrl, 'pat@example.org', PASSWORD);
    await pat.goto(`${stack.webUrl}/settings`);
    await pat.fill('#token-name', 'laptop');
    await pat.click('button:has-text("Create token")');
    const token = (await (await pat.waitForSelector('[data-testid=new-token]')).textContent())!;
    await pat.waitForSelector('[data-testid=api-tokens] td:has-text("laptop")');
    expect(await pat.textContent('[data-testid=api-tokens]')).not.toContain(token);
    const me = async (bearer: string) => (await fetch(`${stack.apiUrl}/auth/me`, { headers: { authorization: `Bearer ${bearer}` } })).status;
    expect(await me(token)).toBe(200);
    await pat.click('button[aria-label="Revoke token laptop"]');
    await pat.waitForSelector('.notice:has-text("Token revoked")');
    await pat.waitForSelector('text=You have no API tokens.');
    expect(await me(token)).toBe(401);

    const changeTo = async (confirmation: string) => {
      await pat.fill('#current-password', PASSWORD);
      await pat.fill('#new-password', 'pat changed password 2');
      await pat.fill('#confirm-password', confirmation);
      await pat.click('button:has-text("Change password")');
    };
    await changeTo('something else entirely');
    await pat.waitForSelector('.error:has-text("The two new passwords differ.")');
    await changeTo('pat changed password 2');
    await pat.waitForSelector('.notice:has-text("Password changed")');
    await pat.goto(`${stack.webUrl}/dashboard`);
    expect(pat.url()).toContain('/dashboard');

    const admin = await signIn(stack.browser, stack.webUrl, ADMIN.email, ADMIN.password);
    await admin.goto(`${stack.webUrl}/settings`);
    await admin.click('button[aria-label="Disable pat@example.org"]');
    await admin.waitForSelector('tr[data-user="pat@example.org"] td:has-text("disabled")');
    await pat.goto(`${stack.webUrl}/runs`);
    await pat.waitForURL('**/login**');

    await admin.click('button[aria-label="Enable pat@example.org"]');
    await admin.waitForSelector('tr[data-user="pat@example.org"] td:has-text("active")');
    await admin.selectOption('#reset-user', { label: 'pat@example.org' });
    await admin.fill('#reset-password', 'pat password set by admin');
    await admin.click('button:has-text("Set password")');
    await admin.waitForSelector('.notice:has-text("Password set")');
    await stack.api('POST', '/auth/login', { email: 'pat@example.org', password: 'pat password set by admin' });
    await pat.context().close();
    await admin.context().close();
  });
});
