import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { REDACTED } from '../manifest/redact.js';
import type { StoredLine } from '../logs/run-log-store.js';
import { startApiForTests } from './api-harness.js';
import { writeManifests } from './harness.js';

const PASSWORD = 'correct horse battery staple';
const chatty = `
name: chatty
title: Prints many lines
inputs:
  type: object
  properties:
    count: { type: integer }
    token: { type: string, format: password }
  required: [count, token]
steps:
  - id: print
    action: shell.run
    with:
      command: 'echo "using token $2"; seq 1 "$1"'
      shell: true
      args: ["\${{ inputs.count }}", "\${{ inputs.token }}"]
`;

let api: Awaited<ReturnType<typeof startApiForTests>>;
let baseUrl: string;
let token: string;

beforeAll(async () => {
  api = await startApiForTests(writeManifests({ chatty }), [{ email: 'ops@example.org', password: PASSWORD, grants: [['dev', 'operator']] }]);
  await api.app.listen({ host: '127.0.0.1', port: 0 });
  baseUrl = `127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
  token = await api.logIn('ops@example.org', PASSWORD);
}, 120_000);

afterAll(async () => api?.stop());

async function ticketFor(runId: string): Promise<string> {
  const response = await fetch(`http://${baseUrl}/runs/${runId}/log-ticket`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(201);
  return ((await response.json()) as { ticket: string }).ticket;
}

/** Reads lines from the socket until `stopAfter` of them arrived (then disconnects) or the log reaches `total`. */
function readLines(runId: string, ticket: string, after: number, stopAfter: number, total: number, origin?: string): Promise<{ lines: StoredLine[]; closeCode?: number }> {
  return new Promise((resolve, reject) => {
    const lines: StoredLine[] = [];
    let done = false;
    const socket = new WebSocket(`ws://${baseUrl}/ws/runs/${runId}?ticket=${ticket}&after=${after}`, origin ? { origin } : {});
    const timer = setTimeout(() => reject(new Error(`only ${lines.length} lines after 60s`)), 60_000);
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; lines?: StoredLine[] };
      // What arrives while the socket closes is not read: the caller goes on from the last line it got.
      if (message.type !== 'lines' || done) return;
      lines.push(...message.lines!);
      const last = lines[lines.length - 1]?.seq ?? 0;
      if (lines.length >= stopAfter || last >= total) {
        done = true;
        clearTimeout(timer);
        socket.close();
        resolve({ lines });
      }
    });
    socket.on('close', (code) => {
      clearTimeout(timer);
      resolve({ lines, closeCode: code });
    });
    socket.on('error', reject);
  });
}

describe('live logs', () => {
  it('stream 10,000 lines in order, none lost or doubled across a reconnect, with secrets redacted', async () => {
    const secret = 'tok-9f8e7d6c5b4a';
    const started = await fetch(`http://${baseUrl}/runbooks/chatty/execute`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ environment: 'dev', inputs: { count: 10_000, token: secret } }),
    });
    const { id } = (await started.json()) as { id: string };
    const total = 10_001;
    const first = await readLines(id, await ticketFor(id), 0, 3_000, total);
    const lastSeen = first.lines[first.lines.length - 1]!.seq;
    const rest = await readLines(id, await ticketFor(id), lastSeen, Number.POSITIVE_INFINITY, total);
    const all = [...first.lines, ...rest.lines];

    expect(all.map((line) => line.seq)).toEqual(Array.from({ length: total }, (_, index) => index + 1));
    expect(all[0]!.text).toBe(`using token ${REDACTED}`);
    expect(all.slice(1).map((line) => line.text)).toEqual(Array.from({ length: 10_000 }, (_, index) => String(index + 1)));
    const stored = await api.prisma.runLogLine.findMany({ where: { runId: id, text: { contains: secret } } });
    expect(stored).toEqual([]);
  });

  it('go on where they were when the log store fails for a while: told to the client, nothing lost or doubled', async () => {
    const started = await api.app.inject({ method: 'POST', url: '/runbooks/chatty/execute', headers: { authorization: `Bearer ${token}` }, payload: { environment: 'dev', inputs: { count: 300, token: 'x' } } });
    const { id } = started.json();
    await api.temporal.workflow.getHandle(id).result();
    const store = api.services.logStore;
    const linesAfter = store.linesAfter.bind(store);
    let failures = 0;
    store.linesAfter = async (...args: Parameters<typeof store.linesAfter>) => {
      if (failures < 3) {
        failures += 1;
        throw new Error('connection terminated unexpectedly');
      }
      return linesAfter(...args);
    };
    try {
      const statuses: boolean[] = [];
      const ticket = await ticketFor(id);
      const lines: StoredLine[] = await new Promise((resolve, reject) => {
        const received: StoredLine[] = [];
        const socket = new WebSocket(`ws://${baseUrl}/ws/runs/${id}?ticket=${ticket}`);
        const timer = setTimeout(() => reject(new Error(`only ${received.length} lines after 30s`)), 30_000);
        socket.on('message', (data) => {
          const message = JSON.parse(String(data)) as { type: string; lines?: StoredLine[]; readable?: boolean };
          if (message.type === 'status') statuses.push(message.readable!);
          if (message.type !== 'lines') return;
          received.push(...message.lines!);
          if (received[received.length - 1]!.seq >= 301) {
            clearTimeout(timer);
            socket.close();
            resolve(received);
          }
        });
        socket.on('error', reject);
      });
      expect(failures).toBe(3);
      expect(statuses).toEqual([false, true]);
      expect(lines.map((line) => line.seq)).toEqual(Array.from({ length: 301 }, (_, index) => index + 1));
    } finally {
      store.linesAfter = linesAfter;
    }
  });

  it('refuses a socket without a valid ticket or from a foreign origin', async () => {
    const started = await api.app.inject({ method: 'POST', url: '/runbooks/chatty/execute', headers: { authorization: `Bearer ${token}` }, payload: { environment: 'dev', inputs: { count: 1, token: 'x' } } });
    const { id } = started.json();
    expect((await readLines(id, 'not-a-valid-ticket-at-all', 0, 1, 1)).closeCode).toBe(1008);
    expect((await readLines(id, await ticketFor(id), 0, 1, 1, 'https://evil.example.com')).closeCode).toBe(1008);
    const unauthenticated = await fetch(`http://${baseUrl}/runs/${id}/log-ticket`, { method: 'POST' });
    expect(unauthenticated.status).toBe(401);
  });
});
