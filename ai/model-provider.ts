// The model provider: chat answers, structured answers, streamed answers and
// embeddings through the official openai SDK, so OpenAI, Azure OpenAI or any
// OpenAI-compatible server works with a base URL, a key and model names.
// Every call returns its accounting (model, tokens, latency, cost) to the
// caller, who audits it. The SDK is told everything explicitly, so it reads
// nothing from the process environment behind config/env.ts's back.
import OpenAI from 'openai';
import type { ChatCompletionCreateParamsNonStreaming, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { z } from 'zod';
import { ChatStream, type TokenUsage } from './chat-stream.js';
import { costOfCall } from './model-prices.js';
import { AiNotConfiguredError, AiOutputError, AiProviderError, toProviderError } from './provider-errors.js';
import { DEFAULT_RETRY_POLICY, RetriesExhaustedError, withRetries, type RetryPolicy } from './retry.js';

/** The AI part of config/env.ts's parsed environment. */
export interface AiSettings {
  baseUrl?: string;
  apiKey?: string;
  chatModel?: string;
  embeddingModel?: string;
  timeoutMs: number;
  maxRetries: number;
}

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

/** Whether a model API can be reached at all: a key for OpenAI, or a base URL of another server. */
export function hasModelApi(settings: AiSettings): boolean {
  return Boolean(settings.apiKey || settings.baseUrl);
}

/** AI answers (diagnosis, chat, plans) are on only with a model API and a chat model. */
export function isAiConfigured(settings: AiSettings): boolean {
  return hasModelApi(settings) && Boolean(settings.chatModel);
}

export interface CallAccounting {
  /** The model that answered, as the API names it (may be a dated snapshot of the one asked for). */
  model: string;
  promptTokens: number;
  completionTokens: number;
  /** Wall time of the whole call, retries and streaming included. */
  latencyMs: number;
  costUsd: number;
  /** Requests made, retries included. */
  attempts: number;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  messages: ChatMessage[];
  temperature?: number;
  maxCompletionTokens?: number;
  signal?: AbortSignal;
}

export interface ChatAnswer {
  text: string;
  finishReason: string;
  accounting: CallAccounting;
}

export interface StructuredRequest<T> extends ChatRequest {
  /** The answer's shape; it is sent as a JSON schema and the answer is parsed with it. */
  schema: z.ZodType<T>;
  /** Names the schema for the model, e.g. "remediation_plan" (letters, digits, _ and -). */
  schemaName: string;
}

export interface StructuredAnswer<T> {
  value: T;
  /** The model's answer as received, for the audit log. */
  rawAnswer: string;
  accounting: CallAccounting;
}

export interface EmbeddingAnswer {
  vectors: number[][];
  accounting: CallAccounting;
}

export interface ModelProviderOptions {
  /** Where retries are reported; never receives the key. */
  log?(line: string): void;
  /** Overrides of the backoff delays (tests make them short). */
  retry?: Partial<Omit<RetryPolicy, 'maxRetries'>>;
}

export class ModelProvider {
  private readonly client: OpenAI;
  private readonly retryPolicy: RetryPolicy;

  constructor(
    private readonly settings: AiSettings,
    private readonly options: ModelProviderOptions = {},
  ) {
    if (!hasModelApi(settings)) throw new AiNotConfiguredError('no model API configured: set OPENAI_API_KEY, or OPENAI_BASE_URL for another server');
    this.client = new OpenAI({
      baseURL: settings.baseUrl ?? OPENAI_DEFAULT_BASE_URL,
      // Keyless OpenAI-compatible servers (llama.cpp, vLLM) ignore the header; the SDK insists on a value.
      apiKey: settings.apiKey ?? 'no-key',
      organization: null,
      project: null,
      adminAPIKey: null,
      webhookSecret: null,
      timeout: settings.timeoutMs,
      maxRetries: 0,
      logLevel: 'off',
    });
    this.retryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry, maxRetries: settings.maxRetries };
  }

  get chatModel(): string | undefined {
    return this.settings.chatModel;
  }

  get embeddingModel(): string | undefined {
    return this.settings.embeddingModel;
  }

  async chat(request: ChatRequest): Promise<ChatAnswer> {
    const model = this.requireChatModel();
    const started = performance.now();
    const { value: completion, attempts } = await this.call(() => this.client.chat.completions.create(this.chatParams(model, request), { signal: request.signal }));
    const choice = completion.choices[0];
    return {
      text: choice?.message.content ?? '',
      finishReason: choice?.finish_reason ?? 'unknown',
      accounting: this.account(completion.model || model, completion.usage, started, attempts),
    };
  }

  /** Asks for JSON that fits `schema` (response_format json_schema) and parses the answer with it. */
  async structured<T>(request: StructuredRequest<T>): Promise<StructuredAnswer<T>> {
    const model = this.requireChatModel();
    const { $schema: _dialect, ...jsonSchema } = z.toJSONSchema(request.schema, { target: 'draft-7' }) as Record<string, unknown>;
    const started = performance.now();
    const { value: completion, attempts } = await this.call(() =>
      this.client.chat.completions.create(
        {
          ...this.chatParams(model, request),
          response_format: {
            type: 'json_schema',
            json_schema: { name: request.schemaName, schema: jsonSchema, strict: isStrictCompatible(jsonSchema) },
          },
        },
        { signal: request.signal },
      ),
    );
    const accounting = this.account(completion.model || model, completion.usage, started, attempts);
    const message = completion.choices[0]?.message;
    if (message?.refusal) throw new AiOutputError(`the model refused to answer: ${message.refusal}`, message.refusal);
    const rawAnswer = message?.content ?? '';
    if (completion.choices[0]?.finish_reason === 'length') throw new AiOutputError('the model’s answer was cut off at the token limit', rawAnswer);
    let parsedJson: unknown;
    try {
      parsedJson = JSON.parse(rawAnswer);
    } catch {
      throw new AiOutputError(`the model’s answer is not JSON (${request.schemaName})`, rawAnswer);
    }
    const result = request.schema.safeParse(parsedJson);
    if (!result.success) {
      const issues = result.error.issues.map((issue) => `${issue.path.join('.') || '(answer)'}: ${issue.message}`);
      throw new AiOutputError(`the model’s answer does not fit ${request.schemaName}: ${issues.join('; ')}`, rawAnswer, issues);
    }
    return { value: result.data, rawAnswer, accounting };
  }

  /**
   * Starts a streamed answer. Resolves once the API has accepted the request
   * (refusals and retries happen before that); then iterate the text deltas.
   */
  async streamChat(request: ChatRequest): Promise<ChatStream> {
    const model = this.requireChatModel();
    const started = performance.now();
    const { value: chunks, attempts } = await this.call(() =>
      this.client.chat.completions.create({ ...this.chatParams(model, request), stream: true, stream_options: { include_usage: true } }, { signal: request.signal }),
    );
    return new ChatStream(
      chunks,
      (answeredBy, usage) => this.account(answeredBy, usage, started, attempts),
      (error) => toProviderError(error, this.settings.apiKey, attempts),
      model,
    );
  }

  /** Embeds texts with the embedding model, asking for `dimensions` per vector; vectors come back in input order. */
  async embed(texts: string[], dimensions: number): Promise<EmbeddingAnswer> {
    const model = this.settings.embeddingModel;
    if (!model) throw new AiNotConfiguredError('no embedding model configured: set JARVIS_AI_EMBEDDING_MODEL');
    const started = performance.now();
    if (texts.length === 0) return { vectors: [], accounting: this.account(model, undefined, started, 0) };
    const { value: response, attempts } = await this.call(() => this.client.embeddings.create({ model, input: texts, dimensions, encoding_format: 'float' }));
    const vectors = [...response.data].sort((a, b) => a.index - b.index).map((item) => item.embedding);
    if (vectors.length !== texts.length) throw new AiProviderError(`the embedding API returned ${vectors.length} vectors for ${texts.length} texts`, undefined, 'bad_answer', attempts);
    const wrongSize = vectors.find((vector) => vector.length !== dimensions);
    if (wrongSize) throw new AiProviderError(`the embedding model returned ${wrongSize.length} dimensions, not ${dimensions}`, undefined, 'bad_answer', attempts);
    return { vectors, accounting: this.account(response.model || model, response.usage, started, attempts) };
  }

  private requireChatModel(): string {
    if (!this.settings.chatModel) throw new AiNotConfiguredError('no chat model configured: set JARVIS_AI_CHAT_MODEL');
    return this.settings.chatModel;
  }

  private chatParams(model: string, request: ChatRequest): ChatCompletionCreateParamsNonStreaming {
    return {
      model,
      messages: request.messages.map((message): ChatCompletionMessageParam => ({ role: message.role, content: message.content })),
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      ...(request.maxCompletionTokens === undefined ? {} : { max_completion_tokens: request.maxCompletionTokens }),
    };
  }

  private async call<T>(attempt: () => Promise<T>): Promise<{ value: T; attempts: number }> {
    try {
      return await withRetries(attempt, this.retryPolicy, this.options.log);
    } catch (error) {
      if (error instanceof RetriesExhaustedError) throw toProviderError(error.lastError, this.settings.apiKey, error.attempts);
      throw toProviderError(error, this.settings.apiKey, 1);
    }
  }

  private account(model: string, usage: TokenUsage | null | undefined, started: number, attempts: number): CallAccounting {
    const promptTokens = usage?.prompt_tokens ?? 0;
    const completionTokens = usage?.completion_tokens ?? 0;
    return {
      model,
      promptTokens,
      completionTokens,
      latencyMs: Math.round(performance.now() - started),
      costUsd: costOfCall(model, promptTokens, completionTokens),
      attempts,
    };
  }
}

/**
 * OpenAI's strict structured outputs need every property required and no
 * additional properties; a schema with optional fields is sent non-strict
 * (the answer is validated here either way). Use `.nullable()` rather than
 * `.optional()` for fields the model may leave empty to keep strict mode.
 */
function isStrictCompatible(schema: unknown): boolean {
  if (Array.isArray(schema)) return schema.every(isStrictCompatible);
  if (!schema || typeof schema !== 'object') return true;
  const node = schema as Record<string, unknown>;
  if (node.type === 'object' || node.properties) {
    const properties = Object.keys((node.properties as Record<string, unknown> | undefined) ?? {});
    const required = new Set((node.required as string[] | undefined) ?? []);
    if (node.additionalProperties !== false || properties.some((property) => !required.has(property))) return false;
  }
  return Object.values(node).every(isStrictCompatible);
}
