// Each HTTP channel against a local server speaking its API: what is posted,
// and which answers count as failures (and whether retrying may cure them).
import { ApplicationFailure } from '@temporalio/common';
import http from 'node:http';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllowlist } from '../http/egress-policy.js';
import { sendOnChannel, signWebhook, type NotificationChannel, type NotificationMessage } from './index.js';

interface Seen {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let server: http.Server;
let base = '';
const seen: Seen[] = [];
/** Per path: the status and body to answer. */
const answers = new Map<string, { status: number; body: string }>();
const egress = { allowlist: async (environment: string) => parseAllowlist(environment, ['127.0.0.1']).allowlist };
const message: NotificationMessage = { kind: 'run.failed', subject: 'Run failed: deploy (r1) in dev', text: 'Failing step: build', html: '<p>x</p>', link: 'http://web/runs/r1', severity: 'error' };

function channel(type: string, config: Record<string, unknown>, secret?: string): NotificationChannel {
  return { connectionId: 'c1', type, environment: 'dev', config, ...(secret ? { secret } : {}) };
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

beforeAll(async () => {
  server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      seen.push({ path: request.url ?? '', headers: request.headers, body });
      const answer = answers.get(request.url ?? '') ?? { status: 200, body: 'ok' };
      response.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const last = () => seen[seen.length - 1]!;

describe('notification channels', () => {
  it('post to a Slack bot with chat.postMessage, and treat {ok: false} as a failure', async () => {
    answers.set('/api/chat.postMessage', { status: 200, body: '{"ok":true}' });
    await sendOnChannel(message, channel('slack', { channel: '#ops', apiUrl: `${base}/api` }, 'xoxb-token'), egress);
    expect(last().headers.authorization).toBe('Bearer xoxb-token');
    expect(JSON.parse(last().body)).toMatchObject({ channel: '#ops', text: expect.stringContaining('Run failed') });

    answers.set('/api/chat.postMessage', { status: 200, body: '{"ok":false,"error":"channel_not_found"}' });
    const refused = await failureOf(sendOnChannel(message, channel('slack', { channel: '#nowhere', apiUrl: `${base}/api` }, 'xoxb-token'), egress));
    expect(refused).toMatchObject({ nonRetryable: true, message: 'Slack chat.postMessage failed: channel_not_found' });
    answers.set('/api/chat.postMessage', { status: 200, body: '{"ok":false,"error":"ratelimited"}' });
    expect(await failureOf(sendOnChannel(message, channel('slack', { channel: '#ops', apiUrl: `${base}/api` }, 'xoxb-token'), egress))).toMatchObject({ nonRetryable: false });
  });

  it('post an Adaptive Card to a Teams workflow, which answers 202', async () => {
    answers.set('/teams', { status: 202, body: '' });
    await sendOnChannel(message, channel('teams', {}, `${base}/teams`), egress);
    const posted = JSON.parse(last().body);
    expect(posted.type).toBe('message');
    expect(posted.attachments[0]).toMatchObject({ contentType: 'application/vnd.microsoft.card.adaptive', content: { type: 'AdaptiveCard', actions: [{ url: 'http://web/runs/r1' }] } });
  });

  it('send a Telegram message and check its ok, never naming the token in an error', async () => {
    answers.set('/bot123:secret-token/sendMessage', { status: 200, body: '{"ok":true,"result":{}}' });
    await sendOnChannel(message, channel('telegram', { chatId: '-100', apiUrl: base }, '123:secret-token'), egress);
    expect(JSON.parse(last().body)).toMatchObject({ chat_id: '-100', text: expect.stringContaining('Failing step') });
    answers.set('/bot123:secret-token/sendMessage', { status: 400, body: '{"ok":false,"description":"Bad Request: chat not found"}' });
    const refused = await failureOf(sendOnChannel(message, channel('telegram', { chatId: '-1', apiUrl: base }, '123:secret-token'), egress));
    expect(refused.nonRetryable).toBe(true);
    expect(refused.message).toContain('chat not found');
    expect(refused.message).not.toContain('secret-token');
  });

  it('publish to ntfy as JSON at the server root, with the topic, priority and click link', async () => {
    await sendOnChannel(message, channel('ntfy', { server: base, topic: 'ops-alerts' }, 'tk_token'), egress);
    expect(last().path).toBe('/');
    expect(last().headers.authorization).toBe('Bearer tk_token');
    expect(JSON.parse(last().body)).toEqual({ topic: 'ops-alerts', title: message.subject, message: message.text, tags: ['rotating_light'], priority: 5, click: 'http://web/runs/r1' });
  });

  it('sign a generic webhook with an HMAC of the timestamp and body', async () => {
    await sendOnChannel(message, channel('webhook', { url: `${base}/hook` }, 'shh'), egress);
    const timestamp = last().headers['x-jarvis-timestamp'] as string;
    expect(last().headers['x-jarvis-signature']).toBe(signWebhook('shh', timestamp, last().body));
    expect(signWebhook('shh', timestamp, last().body)).toMatch(/^sha256=[0-9a-f]{64}$/);
  });

  it('retry a 5xx, give up on a 4xx, and refuse an address the environment does not allow', async () => {
    answers.set('/down', { status: 503, body: 'busy' });
    expect(await failureOf(sendOnChannel(message, channel('slack', {}, `${base}/down`), egress))).toMatchObject({ nonRetryable: false });
    answers.set('/gone', { status: 404, body: 'no_service' });
    expect(await failureOf(sendOnChannel(message, channel('slack', {}, `${base}/gone`), egress))).toMatchObject({ nonRetryable: true });
    const closed = { allowlist: async (environment: string) => parseAllowlist(environment, []).allowlist };
    const refused = await failureOf(sendOnChannel(message, channel('slack', {}, `${base}/hooks/T0/B0/secret-path`), closed));
    expect(refused.nonRetryable).toBe(true);
    expect(refused.message).not.toContain('secret-path');
  });
});
