// Embedders turn texts into 384-dimension unit vectors for the knowledge
// base: the model provider's embedding model when one is configured, the
// offline lexical embedder otherwise. Vectors of different embedders are not
// comparable, so the knowledge base records which model made each one.
import { LocalEmbedder } from './local-embedder.js';
import { hasModelApi, ModelProvider, type AiSettings, type CallAccounting } from './model-provider.js';

/** The size of every vector in the knowledge base (knowledge_chunks.embedding is vector(384)). */
export const EMBEDDING_DIMENSIONS = 384;

export interface Embedder {
  readonly dimensions: number;
  /** Names what made the vectors, e.g. "text-embedding-3-small" or the local embedder's name. */
  readonly model: string;
  /** One vector per text, in order. */
  embed(texts: string[]): Promise<number[][]>;
}

/** Texts per embeddings request: well under the API's input limits, few enough to keep one request short. */
const TEXTS_PER_REQUEST = 96;

/** Embeddings from the model API, asked for EMBEDDING_DIMENSIONS dimensions. */
export class ProviderEmbedder implements Embedder {
  readonly dimensions = EMBEDDING_DIMENSIONS;
  readonly model: string;

  constructor(
    private readonly provider: ModelProvider,
    /** Receives the accounting of each embeddings request, for the audit. */
    private readonly onCall: (accounting: CallAccounting) => void = () => {},
  ) {
    if (!provider.embeddingModel) throw new Error('the model provider has no embedding model');
    this.model = provider.embeddingModel;
  }

  async embed(texts: string[]): Promise<number[][]> {
    const vectors: number[][] = [];
    for (let start = 0; start < texts.length; start += TEXTS_PER_REQUEST) {
      const answer = await this.provider.embed(texts.slice(start, start + TEXTS_PER_REQUEST), this.dimensions);
      this.onCall(answer.accounting);
      vectors.push(...answer.vectors);
    }
    return vectors;
  }
}

export interface CreateEmbedderOptions {
  /** A provider already built from the same settings, to share its client. */
  provider?: ModelProvider;
  onCall?(accounting: CallAccounting): void;
}

/** The provider's embedding model when a model API and an embedding model are configured; the offline lexical embedder otherwise. */
export function createEmbedder(settings: AiSettings, options: CreateEmbedderOptions = {}): Embedder {
  if (!hasModelApi(settings) || !settings.embeddingModel) return new LocalEmbedder();
  return new ProviderEmbedder(options.provider ?? new ModelProvider(settings), options.onCall);
}
