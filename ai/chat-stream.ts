// A streamed chat answer: the text deltas as the model produces them, then
// the call's accounting from the usage the API sends after the last delta
// (stream_options.include_usage).
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { Stream } from 'openai/streaming';
import type { CallAccounting } from './model-provider.js';

export interface TokenUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
}

/** An answer arriving in pieces: iterate for the text deltas; `accounting` is set once the stream has ended. */
export class ChatStream implements AsyncIterable<string> {
  private answerText = '';
  private finalAccounting: CallAccounting | undefined;
  private consumed = false;

  constructor(
    private readonly chunks: Stream<ChatCompletionChunk>,
    private readonly finish: (model: string, usage: TokenUsage | undefined) => CallAccounting,
    private readonly describeFailure: (error: unknown) => Error,
    private readonly requestedModel: string,
  ) {}

  get text(): string {
    return this.answerText;
  }

  get accounting(): CallAccounting | undefined {
    return this.finalAccounting;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    if (this.consumed) throw new Error('a chat stream can be read only once');
    this.consumed = true;
    let model = this.requestedModel;
    let usage: TokenUsage | undefined;
    try {
      for await (const chunk of this.chunks) {
        if (chunk.model) model = chunk.model;
        if (chunk.usage) usage = chunk.usage;
        const delta = chunk.choices[0]?.delta?.content;
        if (delta) {
          this.answerText += delta;
          yield delta;
        }
      }
    } catch (error) {
      throw this.describeFailure(error);
    }
    this.finalAccounting = this.finish(model, usage);
  }

  /** Stops reading and closes the connection (a client that went away). */
  cancel(): void {
    this.chunks.controller.abort();
  }
}
