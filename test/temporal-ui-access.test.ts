// Temporal's web UI behind Jarvis: Traefik's forward auth asks the web app,
// which lets only signed-in admins through, and the UI's codec calls reach
// the API with the browser's own Jarvis session (Temporal's UI sends cookies,
// never a bearer token).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { writeManifests } from './files.js';
import { ADMIN, signIn, startWebStack, type WebStack } from './web-stack.js';

const VIEWER = { email: 'viewer@example.org', password: 'viewer password 12' };
/** A runbook that keeps its `note` input, to find it decoded in Temporal's UI and CLI. */
const noteRunbook = (name: string) => `
name: ${name}
title: Keeps a note
environments: [dev]
inputs: { type: object, properties: { note: { type: string } }, required: [note] }
steps:
  - id: keep
    action: core.noop
    with: { message: "\${{ inputs.note }}" }
`;
let stack: WebStack;
let adminToken: string;

beforeAll(async () => {
  stack = await startWebStack(writeManifests({ 'cli-note': noteRunbook('cli-note') }), inject('temporalAddress'));
  adminToken = (await stack.api<{ accessToken: string }>('POST', '/auth/login', ADMIN)).accessToken;
  const viewer = await stack.api<{ id: string }>('POST', '/users', { ...VIEWER, name: 'Viewer' }, adminToken);
  await stack.api('POST', `/users/${viewer.id}/grants`, { environment: 'dev', role: 'viewer' }, adminToken);
});

afterAll(async () => {
  await stack?.stop();
});

const forwardAuth = (request: { get(url: string, options: object): Promise<{ status(): number }> }) =>
  request.get(`${stack.webUrl}/temporal-ui/auth`, { headers: { 'x-forwarded-uri': '/temporal/namespaces/default/workflows' }, maxRedirects: 0 });

describe("Temporal's web UI behind Jarvis", () => {
  it('sends someone who is not signed in to the sign-in page, coming back to where they were going', async () => {
    const response = await fetch(`${stack.webUrl}/temporal-ui/auth`, { redirect: 'manual', headers: { 'x-forwarded-uri': '/temporal/namespaces/default/workflows' } });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe(`/login?next=${encodeURIComponent('/temporal/namespaces/default/workflows')}`);
    const elsewhere = await fetch(`${stack.webUrl}/temporal-ui/auth`, { redirect: 'manual', headers: { 'x-forwarded-uri': '//evil.example/x' } });
    expect(elsewhere.headers.get('location')).toBe(`/login?next=${encodeURIComponent('/temporal')}`);
    const decode = await fetch(`${stack.webUrl}/temporal-codec/decode`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ payloads: [] }) });
    expect(decode.status).toBe(401);
  });

  it('refuses a signed-in user who is admin nowhere, and lets an admin through', async () => {
    const viewer = await signIn(stack.browser, stack.webUrl, VIEWER.email, VIEWER.password);
    expect((await forwardAuth(viewer.context().request)).status()).toBe(403);
    const admin = await signIn(stack.browser, stack.webUrl, ADMIN.email, ADMIN.password);
    expect((await forwardAuth(admin.context().request)).status()).toBe(204);
    await Promise.all([viewer.context().close(), admin.context().close()]);
  });

  it("decodes a run's input for Temporal's own CLI through the API's codec with an admin's token", async () => {
    const { id } = await stack.api<{ id: string }>('POST', '/runbooks/cli-note/execute', { environment: 'dev', inputs: { note: 'decoded-for-the-cli-7' } }, adminToken);
    // The CLI prints the history as protojson: a payload's data in base64, decoded when the codec let it.
    const shownInput = async (auth: string) => {
      const { stdout } = await promisify(execFile)(inject('temporalBinary'), [
        'workflow', 'show', '--address', inject('temporalAddress'), '--workflow-id', id, '--output', 'json', '--codec-endpoint', `${stack.apiUrl}/codec`, '--codec-auth', auth,
      ]);
      const history = JSON.parse(stdout) as { events: Array<{ workflowExecutionStartedEventAttributes?: { input: { payloads: Array<{ metadata: { encoding: string }; data: string }> } } }> };
      const payload = history.events[0]!.workflowExecutionStartedEventAttributes!.input.payloads[0]!;
      return { encoding: Buffer.from(payload.metadata.encoding, 'base64').toString(), data: Buffer.from(payload.data, 'base64').toString('latin1') };
    };
    const forAdmin = await shownInput(`Bearer ${adminToken}`);
    expect(forAdmin.encoding).toBe('json/plain');
    expect(forAdmin.data).toContain('"note":"decoded-for-the-cli-7"');
    const viewerToken = (await stack.api<{ accessToken: string }>('POST', '/auth/login', VIEWER)).accessToken;
    const forViewer = await shownInput(`Bearer ${viewerToken}`).catch((error: Error) => ({ encoding: 'refused', data: error.message }));
    expect(forViewer.data).not.toContain('decoded-for-the-cli-7');
  });

  it("decodes payloads for the UI with the admin's browser session", async () => {
    const clear = { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('{"greeting":"hello"}').toString('base64') };
    const encoded = await stack.api<{ payloads: Array<{ metadata: Record<string, string> }> }>('POST', '/codec/encode', { payloads: [clear] }, adminToken);
    expect(Buffer.from(encoded.payloads[0]!.metadata.encoding!, 'base64').toString()).toBe('binary/encrypted');
    const viewer = await signIn(stack.browser, stack.webUrl, VIEWER.email, VIEWER.password);
    expect((await viewer.context().request.post(`${stack.webUrl}/temporal-codec/decode`, { data: encoded })).status()).toBe(403);
    const admin = await signIn(stack.browser, stack.webUrl, ADMIN.email, ADMIN.password);
    const decoded = await admin.context().request.post(`${stack.webUrl}/temporal-codec/decode`, { data: encoded });
    expect(decoded.status()).toBe(200);
    expect(await decoded.json()).toEqual({ payloads: [clear] });
    await Promise.all([viewer.context().close(), admin.context().close()]);
  });
});

describe("Temporal's own web UI as npm start serves it (under /temporal of the web app)", () => {
  let own: WebStack;
  let token: string;

  beforeAll(async () => {
    // No Temporal address: start.ts runs its own dev server, with its UI behind the web app.
    own = await startWebStack(writeManifests({ 'ui-note': noteRunbook('ui-note') }));
    token = (await own.api<{ accessToken: string }>('POST', '/auth/login', ADMIN)).accessToken;
    const viewer = await own.api<{ id: string }>('POST', '/users', { ...VIEWER, name: 'Viewer' }, token);
    await own.api('POST', `/users/${viewer.id}/grants`, { environment: 'dev', role: 'viewer' }, token);
  }, 180_000);

  afterAll(async () => {
    await own?.stop();
  });

  it('lets only admins in, read-only, and shows them a run with its input decoded by Jarvis', async () => {
    const anonymous = await fetch(`${own.webUrl}/temporal/namespaces/default/workflows`, { redirect: 'manual' });
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.get('location')).toBe(`/login?next=${encodeURIComponent('/temporal/namespaces/default/workflows')}`);
    const viewer = await signIn(own.browser, own.webUrl, VIEWER.email, VIEWER.password);
    expect((await viewer.context().request.get(`${own.webUrl}/temporal/namespaces/default/workflows`)).status()).toBe(403);

    const admin = await signIn(own.browser, own.webUrl, ADMIN.email, ADMIN.password);
    const settings = await (await admin.context().request.get(`${own.webUrl}/temporal/api/v1/settings`)).json();
    expect(settings).toMatchObject({ Codec: { Endpoint: '/temporal-codec' }, DisableWriteActions: true });
    const write = await admin.context().request.post(`${own.webUrl}/temporal/api/v1/namespaces/default/workflows/x/terminate`, { data: {} });
    expect(write.status()).toBe(403);

    const { id } = await own.api<{ id: string }>('POST', '/runbooks/ui-note/execute', { environment: 'dev', inputs: { note: 'decoded-by-jarvis-42' } }, token);
    // Temporal's UI loads the page's parts once; on a loaded machine one can miss its answer, so the page is opened again.
    for (let attempt = 1; ; attempt += 1) {
      await admin.goto(`${own.webUrl}/temporal/namespaces/default/workflows/${encodeURIComponent(id)}`);
      try {
        await admin.getByText('decoded-by-jarvis-42').first().waitFor({ timeout: 30_000 });
        break;
      } catch (error) {
        if (attempt >= 3) throw error;
      }
    }
    await own.screenshot(admin, 'temporal-ui-decoded-input');
    await Promise.all([viewer.context().close(), admin.context().close()]);
  }, 180_000);
});
