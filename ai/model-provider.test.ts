import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseEnv } from '../config/env.js';
import { startFakeOpenAi, type FakeOpenAi } from '../test/fake-openai.js';
import { createEmbedder, EMBEDDING_DIMENSIONS, ProviderEmbedder } from './embedder.js';
import { LocalEmbedder } from './local-embedder.js';
import { costOfCall } from './model-prices.js';
import { isAiConfigured, ModelProvider, type AiSettings, type CallAccounting } from './model-provider.js';
import { AiNotConfiguredError, AiOutputError, AiProviderError } from './provider-errors.js';

let fake: FakeOpenAi;
let settings: AiSettings;
const fastRetries = { baseDelayMs: 20, maxDelayMs: 50 };

beforeAll(async () => {
  fake = await startFakeOpenAi();
  settings = { baseUrl: fake.baseUrl, apiKey: fake.apiKey, chatModel: 'gpt-4o-mini', embeddingModel: 'text-embedding-3-small', timeoutMs: 5_000, maxRetries: 3 };
});
afterAll(async () => fake?.close());
beforeEach(() => {
  fake.requests.length = 0;
  fake.respondToChat(() => 'ok');
});

const question = [
  { role: 'system' as const, content: 'You are Jarvis, an operations assistant.' },
  { role: 'user' as const, content: 'Why did the deploy fail?' },
];

describe('the model provider', () => {
  it('answers a chat with the configured model and reports the tokens, latency and cost the API reported', async () => {
    fake.enqueue({ content: 'The disk on web-1 is full.', usage: { promptTokens: 1_000, completionTokens: 500 } });
    const answer = await new ModelProvider(settings).chat({ messages: question, temperature: 0 });

    expect(answer.text).toBe('The disk on web-1 is full.');
    expect(answer.finishReason).toBe('stop');
    const [request] = fake.requests;
    expect(request).toMatchObject({ path: '/v1/chat/completions', authorization: `Bearer ${fake.apiKey}`, body: { model: 'gpt-4o-mini', messages: question, temperature: 0 } });
    expect(answer.accounting).toMatchObject({ model: 'gpt-4o-mini', promptTokens: 1_000, completionTokens: 500, attempts: 1 });
    expect(answer.accounting.costUsd).toBeCloseTo(costOfCall('gpt-4o-mini', 1_000, 500), 12);
    expect(answer.accounting.costUsd).toBeCloseTo(0.00045, 12);
    expect(answer.accounting.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('asks for structured output with a JSON schema and returns the answer parsed by it', async () => {
    const diagnosis = z.object({ cause: z.string(), confidence: z.number().min(0).max(1), citations: z.array(z.object({ runId: z.string(), line: z.number().int() })) });
    fake.enqueue({ content: JSON.stringify({ cause: 'disk full', confidence: 0.8, citations: [{ runId: 'run-1', line: 42 }] }) });
    const answer = await new ModelProvider(settings).structured({ messages: question, schema: diagnosis, schemaName: 'diagnosis' });

    expect(answer.value).toEqual({ cause: 'disk full', confidence: 0.8, citations: [{ runId: 'run-1', line: 42 }] });
    const format = fake.requests[0]!.body.response_format!;
    expect(format.type).toBe('json_schema');
    expect(format.json_schema).toMatchObject({ name: 'diagnosis', strict: true, schema: { type: 'object', required: ['cause', 'confidence', 'citations'], additionalProperties: false } });
    expect(answer.accounting.promptTokens).toBe(fake.requests[0]!.usage!.prompt_tokens);
  });

  it('refuses a structured answer that is not JSON, or JSON of the wrong shape, with a clear error', async () => {
    const provider = new ModelProvider(settings);
    const plan = z.object({ steps: z.array(z.object({ action: z.string() })).min(1) });
    fake.enqueue({ content: 'Sure! Here is the plan: restart everything.' });
    await expect(provider.structured({ messages: question, schema: plan, schemaName: 'plan' })).rejects.toThrow(/not JSON \(plan\)/);

    fake.enqueue({ content: JSON.stringify({ steps: [{ action: 42 }] }) });
    const error = await provider.structured({ messages: question, schema: plan, schemaName: 'plan' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AiOutputError);
    expect((error as AiOutputError).message).toMatch(/does not fit plan: steps\.0\.action/);
    expect((error as AiOutputError).rawAnswer).toBe('{"steps":[{"action":42}]}');
  });

  it('sends a schema with optional fields as non-strict, still validating the answer', async () => {
    fake.enqueue({ content: JSON.stringify({ cause: 'oom' }) });
    const answer = await new ModelProvider(settings).structured({ messages: question, schema: z.object({ cause: z.string(), detail: z.string().optional() }), schemaName: 'loose' });
    expect(answer.value).toEqual({ cause: 'oom' });
    expect(fake.requests[0]!.body.response_format!.json_schema!.strict).toBe(false);
  });

  it('streams an answer as text deltas and reports the usage sent at the end of the stream', async () => {
    const text = 'The container api-1 was killed by the OOM killer at 03:12; raise its memory limit.';
    fake.enqueue({ content: text, usage: { promptTokens: 321, completionTokens: 17 } });
    const stream = await new ModelProvider(settings).streamChat({ messages: question });
    expect(stream.accounting).toBeUndefined();
    const deltas: string[] = [];
    for await (const delta of stream) deltas.push(delta);

    expect(deltas.length).toBeGreaterThan(5);
    expect(deltas.join('')).toBe(text);
    expect(stream.text).toBe(text);
    expect(fake.requests[0]!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(stream.accounting).toMatchObject({ model: 'gpt-4o-mini', promptTokens: 321, completionTokens: 17, attempts: 1 });
    expect(stream.accounting!.costUsd).toBeCloseTo(costOfCall('gpt-4o-mini', 321, 17), 12);
  });

  it('asks for 384-dimension embeddings and returns unit vectors in input order', async () => {
    const texts = ['disk full on /var', 'connection refused by postgres', 'disk full on /var'];
    const answer = await new ModelProvider(settings).embed(texts, EMBEDDING_DIMENSIONS);

    expect(fake.requests[0]).toMatchObject({ path: '/v1/embeddings', body: { model: 'text-embedding-3-small', input: texts, dimensions: 384, encoding_format: 'float' } });
    expect(answer.vectors).toHaveLength(3);
    for (const vector of answer.vectors) {
      expect(vector).toHaveLength(384);
      expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
    }
    expect(answer.vectors[0]).toEqual(answer.vectors[2]);
    expect(answer.vectors[0]).not.toEqual(answer.vectors[1]);
    expect(answer.accounting).toMatchObject({ model: 'text-embedding-3-small', promptTokens: fake.requests[0]!.usage!.prompt_tokens, completionTokens: 0 });
  });

  it('retries a rate-limited request after the delay the API asked for, then answers', async () => {
    fake.enqueue({ status: 429, message: 'Rate limit reached for gpt-4o-mini', code: 'rate_limit_exceeded', retryAfterSeconds: 0 }, { content: 'after the wait' });
    const answer = await new ModelProvider(settings, { retry: fastRetries }).chat({ messages: question });

    expect(answer.text).toBe('after the wait');
    expect(fake.requests.map((request) => request.status)).toEqual([429, 200]);
    expect(answer.accounting.attempts).toBe(2);
  });

  it('retries server errors with backoff, and gives up after the configured retries', async () => {
    const provider = new ModelProvider({ ...settings, maxRetries: 2 }, { retry: fastRetries });
    fake.enqueue({ status: 500 }, { status: 503 }, { content: 'third time lucky' });
    expect((await provider.chat({ messages: question })).text).toBe('third time lucky');
    expect(fake.requests.map((request) => request.status)).toEqual([500, 503, 200]);

    fake.requests.length = 0;
    fake.enqueue({ status: 429, retryAfterSeconds: 0 }, { status: 429, retryAfterSeconds: 0 }, { status: 429, retryAfterSeconds: 0 }, { content: 'never reached' });
    const error = await provider.chat({ messages: question }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AiProviderError);
    expect(error).toMatchObject({ status: 429, attempts: 3 });
    expect(fake.requests).toHaveLength(3);
    fake.respondToChat(() => 'ok');
    await provider.chat({ messages: question }); // drains the scripted answer left in the queue
  });

  it('does not retry a bad request', async () => {
    fake.enqueue({ status: 400, message: "Invalid value for 'temperature'", code: 'invalid_value' });
    const error = await new ModelProvider(settings, { retry: fastRetries }).chat({ messages: question, temperature: 7 }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(AiProviderError);
    expect(error).toMatchObject({ status: 400, code: 'invalid_value', attempts: 1 });
    expect((error as Error).message).toMatch(/Invalid value for 'temperature'/);
    expect(fake.requests).toHaveLength(1);
  });

  it('reports a refused key without the key, even when the API quotes it back', async () => {
    const wrongKey = 'sk-live-this-key-must-never-be-shown-123456';
    const error = await new ModelProvider({ ...settings, apiKey: wrongKey }).chat({ messages: question }).catch((caught: unknown) => caught);

    expect(fake.requests[0]!.authorization).toBe(`Bearer ${wrongKey}`);
    expect(error).toBeInstanceOf(AiProviderError);
    expect(error).toMatchObject({ status: 401, code: 'invalid_api_key', attempts: 1 });
    expect((error as Error).message).toMatch(/refused the API key/);
    expect((error as Error).message).toMatch(/Incorrect API key provided: \[redacted api key\]/);
    expect(JSON.stringify(error)).not.toContain(wrongKey);
    expect(String((error as Error).stack)).not.toContain(wrongKey);
    expect((error as Error).cause).toBeUndefined();
  });

  it('gives up on an answer that takes longer than the timeout', async () => {
    fake.enqueue({ content: 'too late', delayMs: 2_000 });
    const started = Date.now();
    const error = await new ModelProvider({ ...settings, timeoutMs: 200, maxRetries: 0 }).chat({ messages: question }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'AiProviderError', code: 'timeout' });
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('says what to set when no model is configured', async () => {
    expect(() => new ModelProvider({ timeoutMs: 1_000, maxRetries: 0 })).toThrow(AiNotConfiguredError);
    await expect(new ModelProvider({ ...settings, chatModel: undefined }).chat({ messages: question })).rejects.toThrow(/JARVIS_AI_CHAT_MODEL/);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('AI configuration', () => {
  it('is on only with a key or base URL and a chat model, parsed from the environment', () => {
    expect(isAiConfigured(parseEnv({}).ai)).toBe(false);
    expect(isAiConfigured(parseEnv({ OPENAI_API_KEY: 'sk-x' }).ai)).toBe(false);
    expect(isAiConfigured(parseEnv({ OPENAI_API_KEY: 'sk-x', JARVIS_AI_CHAT_MODEL: 'gpt-4o-mini' }).ai)).toBe(true);
    expect(isAiConfigured(parseEnv({ OPENAI_BASE_URL: 'http://127.0.0.1:8080/v1/', JARVIS_AI_CHAT_MODEL: 'llama' }).ai)).toBe(true);
    expect(parseEnv({ OPENAI_BASE_URL: 'http://127.0.0.1:8080/v1/', JARVIS_AI_TIMEOUT: '90s' }).ai).toMatchObject({ baseUrl: 'http://127.0.0.1:8080/v1', timeoutMs: 90_000, maxRetries: 3 });
    expect(() => parseEnv({ OPENAI_BASE_URL: 'not a url' })).toThrow(/OPENAI_BASE_URL/);
  });

  it('embeds offline with no embedding model, and through the provider with one', async () => {
    expect(createEmbedder(parseEnv({}).ai)).toBeInstanceOf(LocalEmbedder);
    expect(createEmbedder({ ...settings, embeddingModel: undefined })).toBeInstanceOf(LocalEmbedder);

    const calls: CallAccounting[] = [];
    const embedder = createEmbedder(settings, { onCall: (accounting) => calls.push(accounting) });
    expect(embedder).toBeInstanceOf(ProviderEmbedder);
    expect(embedder.model).toBe('text-embedding-3-small');
    const vectors = await embedder.embed(Array.from({ length: 100 }, (_, index) => `log line ${index}`));
    expect(vectors).toHaveLength(100);
    expect(vectors.every((vector) => vector.length === 384)).toBe(true);
    // Large inputs go in several requests, each one accounted.
    expect(fake.requests).toHaveLength(2);
    expect(calls.map((call) => call.promptTokens)).toEqual(fake.requests.map((request) => request.usage!.prompt_tokens));
  });
});

describe('model prices', () => {
  it('prices dated snapshots like their model and unknown models at zero', () => {
    expect(costOfCall('gpt-4o-mini-2024-07-18', 1_000_000, 0)).toBeCloseTo(0.15, 10);
    expect(costOfCall('gpt-4o-2024-08-06', 1_000_000, 1_000_000)).toBeCloseTo(12.5, 10);
    expect(costOfCall('llama-3.1-8b-instruct', 5_000, 5_000)).toBe(0);
  });
});
