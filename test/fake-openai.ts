// A local HTTP server speaking the part of OpenAI's API that Jarvis uses:
// POST /v1/chat/completions (plain, response_format json_schema, and
// stream: true as server-sent events ending with a usage chunk) and
// POST /v1/embeddings (deterministic vectors of the requested size, float or
// base64). Bearer auth with OpenAI's error shape. OpenAI cannot be reached
// here; the product's code talks to this exactly as it would to OpenAI.
//
// Tests script chat answers (a queue, or a function of the request), force
// errors (429 with retry-after, 500, 400) and read every request received.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeChatRequest {
  model?: string;
  messages?: Array<{ role: string; content: unknown }>;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  response_format?: { type: string; json_schema?: { name?: string; schema?: unknown; strict?: boolean } };
  [key: string]: unknown;
}

/** A scripted answer: the assistant's text, or an error the API answers with. */
export type FakeReply =
  | { content: string; usage?: { promptTokens: number; completionTokens: number }; model?: string; finishReason?: string; /** Wait this long before answering. */ delayMs?: number }
  | { status: number; message?: string; type?: string; code?: string | null; retryAfterSeconds?: number };

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: FakeChatRequest;
  /** The answer's status and, for successful answers, the usage it reported. */
  status: number;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

export interface FakeOpenAi {
  /** The base URL to configure (OPENAI_BASE_URL), ending in /v1. */
  baseUrl: string;
  apiKey: string;
  requests: RecordedRequest[];
  /** Answers the next requests in order, before the responder: errors any request, texts chat requests. */
  enqueue(...replies: FakeReply[]): void;
  /** Answers chat requests that the queue does not (default: "ok"). */
  respondToChat(responder: (request: FakeChatRequest) => FakeReply | string): void;
  close(): Promise<void>;
}

const DEFAULT_EMBEDDING_DIMENSIONS = 1536;

function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function messagesText(request: FakeChatRequest): string {
  return (request.messages ?? []).map((message) => (typeof message.content === 'string' ? message.content : JSON.stringify(message.content))).join('\n');
}

/**
 * A vector from the words of a text: each word's SHA-256 picks a bucket and a
 * sign, then the vector is scaled to length 1. Deterministic, and texts that
 * share words are close, so retrieval through this fake behaves sensibly.
 */
export function fakeEmbedding(text: string, dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  for (const word of text.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean)) {
    const digest = createHash('sha256').update(word).digest();
    vector[digest.readUInt32BE(0) % dimensions]! += digest[4]! & 1 ? 1 : -1;
  }
  const length = Math.hypot(...vector);
  if (length === 0) vector[0] = 1;
  return length === 0 ? vector : vector.map((value) => value / length);
}

async function readJson(request: IncomingMessage): Promise<FakeChatRequest | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as FakeChatRequest;
  } catch {
    return undefined;
  }
}

function sendError(response: ServerResponse, status: number, message: string, type: string, code: string | null, headers: Record<string, string> = {}) {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify({ error: { message, type, param: null, code } }));
}

export async function startFakeOpenAi(options: { apiKey?: string } = {}): Promise<FakeOpenAi> {
  const apiKey = options.apiKey ?? 'sk-fake-openai-test-key-0123456789';
  const requests: RecordedRequest[] = [];
  const queue: FakeReply[] = [];
  let chatResponder: (request: FakeChatRequest) => FakeReply | string = () => 'ok';
  let sequence = 0;

  const server = createServer((request, response) => {
    void (async () => {
      const path = new URL(request.url ?? '/', 'http://fake').pathname;
      const body = (await readJson(request)) ?? {};
      const record: RecordedRequest = { method: request.method ?? 'GET', path, authorization: request.headers.authorization, body, status: 200 };
      requests.push(record);
      const fail = (status: number, message: string, type: string, code: string | null, headers: Record<string, string> = {}) => {
        record.status = status;
        sendError(response, status, message, type, code, headers);
      };

      const presented = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
      if (presented !== apiKey) {
        // OpenAI's own answer quotes (part of) the key it was given; echoing it whole proves the product redacts it.
        return fail(401, `Incorrect API key provided: ${presented ?? '(none)'}. You can find your API key at https://platform.openai.com/account/api-keys.`, 'invalid_request_error', 'invalid_api_key');
      }
      if (request.method !== 'POST' || (path !== '/v1/chat/completions' && path !== '/v1/embeddings')) {
        return fail(404, `Invalid URL (${request.method} ${path})`, 'invalid_request_error', null);
      }
      if (typeof body.model !== 'string' || body.model === '') return fail(400, 'you must provide a model parameter', 'invalid_request_error', null);

      // Errors in the queue answer any request; scripted texts only chat requests.
      const queued = queue[0] && ('status' in queue[0] || path === '/v1/chat/completions') ? queue.shift() : undefined;
      if (queued && 'status' in queued) {
        const headers: Record<string, string> = queued.retryAfterSeconds === undefined ? {} : { 'retry-after': String(queued.retryAfterSeconds) };
        const type = queued.type ?? (queued.status === 429 ? 'requests' : queued.status >= 500 ? 'server_error' : 'invalid_request_error');
        return fail(queued.status, queued.message ?? `scripted ${queued.status}`, type, queued.code ?? null, headers);
      }

      if (path === '/v1/embeddings') return answerEmbeddings(body, record, response, fail);

      if (body.response_format?.type === 'json_schema') {
        const format = body.response_format.json_schema;
        if (!format?.name || typeof format.schema !== 'object') return fail(400, "Missing required parameter: 'response_format.json_schema.name' or 'schema'.", 'invalid_request_error', 'missing_required_parameter');
      }
      const scripted = queued ?? chatResponder(body);
      const reply = typeof scripted === 'string' ? { content: scripted } : scripted;
      if ('status' in reply) {
        return fail(reply.status, reply.message ?? `scripted ${reply.status}`, reply.type ?? 'invalid_request_error', reply.code ?? null);
      }
      if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
      if (response.destroyed) return;
      const promptTokens = reply.usage?.promptTokens ?? estimateTokens(messagesText(body));
      const completionTokens = reply.usage?.completionTokens ?? estimateTokens(reply.content);
      const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
      record.usage = usage;
      const id = `chatcmpl-fake-${(sequence += 1)}`;
      const created = Math.floor(Date.now() / 1_000);
      const model = reply.model ?? body.model;
      const finishReason = reply.finishReason ?? 'stop';

      if (body.stream) {
        response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
        const event = (payload: unknown) => response.write(`data: ${JSON.stringify(payload)}\n\n`);
        const chunk = (delta: Record<string, unknown>, finish: string | null) => ({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
        event(chunk({ role: 'assistant', content: '' }, null));
        // Word by word (spaces kept), as a model streams tokens.
        for (const piece of reply.content.match(/\S+\s*|\s+/g) ?? []) event(chunk({ content: piece }, null));
        event(chunk({}, finishReason));
        if (body.stream_options?.include_usage) event({ id, object: 'chat.completion.chunk', created, model, choices: [], usage });
        response.end('data: [DONE]\n\n');
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          id,
          object: 'chat.completion',
          created,
          model,
          choices: [{ index: 0, message: { role: 'assistant', content: reply.content, refusal: null }, logprobs: null, finish_reason: finishReason }],
          usage,
        }),
      );
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    apiKey,
    requests,
    enqueue: (...replies) => {
      queue.push(...replies);
    },
    respondToChat: (responder) => {
      chatResponder = responder;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function answerEmbeddings(
  body: FakeChatRequest,
  record: RecordedRequest,
  response: ServerResponse,
  fail: (status: number, message: string, type: string, code: string | null) => void,
) {
  const input = body.input;
  const texts = typeof input === 'string' ? [input] : Array.isArray(input) && input.every((item) => typeof item === 'string') ? (input as string[]) : undefined;
  if (!texts || texts.length === 0) return fail(400, "'input' must be a string or a non-empty array of strings", 'invalid_request_error', null);
  const dimensions = body.dimensions === undefined ? DEFAULT_EMBEDDING_DIMENSIONS : Number(body.dimensions);
  if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > DEFAULT_EMBEDDING_DIMENSIONS) return fail(400, `invalid dimensions ${String(body.dimensions)}`, 'invalid_request_error', null);
  const base64 = body.encoding_format === 'base64';
  const promptTokens = texts.reduce((total, text) => total + estimateTokens(text), 0);
  record.usage = { prompt_tokens: promptTokens, completion_tokens: 0, total_tokens: promptTokens };
  const data = texts.map((text, index) => {
    const vector = fakeEmbedding(text, dimensions);
    return { object: 'embedding', index, embedding: base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector };
  });
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ object: 'list', data, model: body.model, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } }));
}
