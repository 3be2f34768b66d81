// The knowledge base in PostgreSQL with pgvector: documents split into
// chunks, each chunk embedded and found again by cosine similarity through an
// HNSW index, filtered by the document's kind, environment, runbook, node and
// time, and weighed by the feedback the document received.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { z } from 'zod';
import { EMBEDDING_DIMENSIONS, type Embedder } from './embedder.js';
import {
  DOCUMENT_COLUMNS,
  documentFromRow,
  KnowledgeInputError,
  KnowledgeNotFoundError,
  newKnowledgeDocumentSchema,
  RESOLVABLE_KINDS,
  RESOLVING_KINDS,
  type ChunkMetadata,
  type DocumentRow,
  type KnowledgeDocument,
  type KnowledgeHit,
  type KnowledgeSearchOptions,
  type NewKnowledgeDocument,
} from './knowledge-documents.js';
import { inTransaction } from '../db/transaction.js';
import { lexicalTokens } from './local-embedder.js';
import { chunkLines, chunkText } from './text-chunks.js';

/** Bounds of a document's weight (also a CHECK in the migration). */
export const MIN_WEIGHT = 0.25;
export const MAX_WEIGHT = 4;

/**
 * How much feedback can move a document: score = similarity + WEIGHT_INFLUENCE * log2(weight).
 *
 * The log makes feedback symmetric (doubling the weight helps as much as
 * halving it hurts) and the bounds keep the adjustment within +/-0.1 of
 * cosine similarity (log2 of 0.25..4 is -2..2). That reorders documents that
 * match about equally well, so the resolution that worked is offered before
 * the one that was rejected, but cannot lift an unrelated document above a
 * relevant one: their similarities differ by far more.
 */
export const WEIGHT_INFLUENCE = 0.05;

const DEFAULT_K = 5;
const MAX_K = 50;
/**
 * Chunks fetched per requested document: the nearest chunks are grouped by
 * document (best chunk wins), and one long document can hold many of them.
 */
const CANDIDATE_CHUNKS_PER_DOCUMENT = 8;
const MIN_CANDIDATE_CHUNKS = 40;
/**
 * hnsw.ef_search per walk of the graph (searchByVector makes two): at least
 * twice the candidates wanted (recall of the top candidates holds at 0.95+
 * there, see bench/rag.ts) and capped, as latency grows with it. A wider walk
 * alone does not reach a second topic: at 100,000 chunks, ef_search 400 lifted
 * recall@5 of questions spanning two topics only from 0.76 to 0.91, where the
 * second walk from a probe gives 0.98 for about twice the time of one walk.
 * With filters, pgvector's iterative scan keeps walking the graph until
 * enough rows pass them instead of returning fewer.
 */
const MIN_EF_SEARCH = 64;
const MAX_EF_SEARCH = 400;

/** The search's filters, the same on both walks of the graph ($2..$8 of searchByVector's query). */
const SEARCH_FILTERS = `c.embedding_model = $2
             AND ($3::text[] IS NULL OR d.kind = ANY($3::text[]))
             AND ($4::text IS NULL OR d.environment = $4)
             AND ($5::text IS NULL OR d.runbook = $5)
             AND ($6::text IS NULL OR d.node = $6)
             AND ($7::timestamptz IS NULL OR d.created_at >= $7)
             AND ($8::timestamptz IS NULL OR d.created_at < $8)`;

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function requireDocumentId(id: string): string {
  if (!UUID_PATTERN.test(id)) throw new KnowledgeNotFoundError(`no knowledge document ${JSON.stringify(id)}`);
  return id;
}

/** How wide a search for k documents looks: chunks fetched and hnsw.ef_search (bench/rag.ts measures the same). */
export function searchBreadth(k: number): { candidates: number; efSearch: number } {
  const candidates = Math.max(k * CANDIDATE_CHUNKS_PER_DOCUMENT, MIN_CANDIDATE_CHUNKS);
  return { candidates, efSearch: Math.min(Math.max(candidates * 2, MIN_EF_SEARCH), MAX_EF_SEARCH) };
}

export class KnowledgeStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly embedder: Embedder,
  ) {
    if (embedder.dimensions !== EMBEDDING_DIMENSIONS) {
      throw new Error(`the knowledge base stores ${EMBEDDING_DIMENSIONS}-dimension vectors; ${embedder.model} makes ${embedder.dimensions}`);
    }
  }

  /** The embedder's model name: search only compares vectors made by it. */
  get embeddingModel(): string {
    return this.embedder.model;
  }

  /**
   * Stores a document with its chunks and their embeddings, all or nothing:
   * the texts are embedded first (no network call holds a transaction open),
   * then the document and every chunk are written in one transaction.
   */
  async addDocument(input: NewKnowledgeDocument): Promise<KnowledgeDocument> {
    const parsed = newKnowledgeDocumentSchema.safeParse(input);
    if (!parsed.success) {
      throw new KnowledgeInputError(`invalid knowledge document: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
    }
    const document = parsed.data;
    const { chunks, vectors } = await this.embedChunks(document);
    const id = randomUUID();
    return inTransaction(this.pool, async (client) => {
      if (document.incidentId) await this.requireResolvable(client, document.incidentId);
      const { rows } = await client.query<DocumentRow>(
        `INSERT INTO knowledge_documents AS d (id, kind, title, body, environment, runbook, node, run_id, incident_id, metadata, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, coalesce($12, now()))
         RETURNING ${DOCUMENT_COLUMNS}`,
        [
          id,
          document.kind,
          document.title,
          document.body,
          document.environment ?? null,
          document.runbook ?? null,
          document.node ?? null,
          document.runId ?? null,
          document.incidentId ?? null,
          JSON.stringify(document.metadata),
          document.createdBy ?? null,
          document.createdAt ?? null,
        ],
      );
      await this.insertChunks(client, id, chunks, vectors);
      return documentFromRow(rows[0]!);
    });
  }

  /**
   * Replaces a document's title, body, metadata and places (an edited
   * incident), re-chunked and re-embedded; its id, weight and the
   * resolutions linked to it stay.
   */
  async replaceDocument(id: string, input: NewKnowledgeDocument): Promise<KnowledgeDocument> {
    requireDocumentId(id);
    const parsed = newKnowledgeDocumentSchema.safeParse(input);
    if (!parsed.success) {
      throw new KnowledgeInputError(`invalid knowledge document: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
    }
    const document = parsed.data;
    const { chunks, vectors } = await this.embedChunks(document);
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<DocumentRow>(
        `UPDATE knowledge_documents AS d SET title = $2, body = $3, environment = $4, runbook = $5, node = $6, metadata = $7, created_at = coalesce($8, d.created_at)
         WHERE d.id = $1 AND d.kind = $9 RETURNING ${DOCUMENT_COLUMNS}`,
        [
          id,
          document.title,
          document.body,
          document.environment ?? null,
          document.runbook ?? null,
          document.node ?? null,
          JSON.stringify(document.metadata),
          document.createdAt ?? null,
          document.kind,
        ],
      );
      if (!rows[0]) throw new KnowledgeNotFoundError(`no ${document.kind} document ${id}`);
      await client.query('DELETE FROM knowledge_chunks WHERE document_id = $1', [id]);
      await this.insertChunks(client, id, chunks, vectors);
      return documentFromRow(rows[0]);
    });
  }

  /**
   * Chunks a document and embeds each chunk. The title is embedded with each
   * chunk unless the document says it is boilerplate (`metadata.embedTitle`
   * false): what is embedded should be what tells documents apart.
   */
  private async embedChunks(document: z.output<typeof newKnowledgeDocumentSchema>) {
    const chunks = [
      ...chunkText(document.body).map((chunk) => ({ text: chunk.text, metadata: { source: 'body', firstLine: chunk.firstLine, lastLine: chunk.lastLine } satisfies ChunkMetadata })),
      ...chunkLines(document.logLines).map((chunk) => ({ text: chunk.text, metadata: { source: 'log', firstLine: chunk.firstLine, lastLine: chunk.lastLine } satisfies ChunkMetadata })),
    ];
    // A document with an empty body is still findable by its title.
    if (chunks.length === 0) chunks.push({ text: '', metadata: { source: 'body', firstLine: 1, lastLine: 1 } });
    const withTitle = document.metadata.embedTitle !== false;
    const vectors = await this.embedder.embed(chunks.map((chunk) => (withTitle || !chunk.text ? `${document.title}\n${chunk.text}` : chunk.text)));
    this.checkVectors(vectors, chunks.length);
    return { chunks, vectors };
  }

  private async insertChunks(client: pg.PoolClient, documentId: string, chunks: Array<{ text: string; metadata: ChunkMetadata }>, vectors: number[][]): Promise<void> {
    await client.query(
      `INSERT INTO knowledge_chunks (id, document_id, ordinal, text, metadata, embedding, embedding_model)
       SELECT chunk.id, $1, chunk.ordinal - 1, chunk.text, chunk.metadata, chunk.embedding::vector, $2
       FROM unnest($3::uuid[], $4::text[], $5::jsonb[], $6::text[]) WITH ORDINALITY AS chunk(id, text, metadata, embedding, ordinal)`,
      [
        documentId,
        this.embedder.model,
        chunks.map(() => randomUUID()),
        chunks.map((chunk) => chunk.text),
        chunks.map((chunk) => JSON.stringify(chunk.metadata)),
        vectors.map((vector) => JSON.stringify(vector)),
      ],
    );
  }

  /**
   * Full-text search of the chunks (PostgreSQL's english text search, the GIN
   * index of the knowledge_full_text migration): any of the query's words,
   * ranked by ts_rank, best chunk per document. Finds the exact error
   * signature ("EADDRINUSE", a path, a host name) that a vector may blur.
   * Each hit carries the cosine similarity of its chunk too.
   */
  async lexicalSearch(query: string, vector: number[], options: KnowledgeSearchOptions & { k: number }): Promise<Array<KnowledgeHit & { lexicalRank: number }>> {
    const words = [...new Set(lexicalTokens(query).flatMap((token) => token.split(/[./_-]/)))].filter((word) => /^[\p{L}\p{N}]{2,40}$/u.test(word)).slice(0, 64);
    if (words.length === 0) return [];
    const { rows } = await this.pool.query<DocumentRow & { chunk_id: string; ordinal: number; chunk_text: string; chunk_metadata: ChunkMetadata; similarity: number; lexical_rank: number }>(
      `WITH q AS (SELECT to_tsquery('english', $9) AS query),
       matched AS (
         SELECT c.id, c.document_id, c.ordinal, c.text, c.metadata, c.embedding, ts_rank(to_tsvector('english', c.text), q.query, 1) AS lexical_rank
         FROM knowledge_chunks c
         JOIN knowledge_documents d ON d.id = c.document_id
         CROSS JOIN q
         WHERE to_tsvector('english', c.text) @@ q.query AND ${SEARCH_FILTERS}
         ORDER BY lexical_rank DESC
         LIMIT $10
       ), best AS (
         SELECT DISTINCT ON (document_id) * FROM matched ORDER BY document_id, lexical_rank DESC
       )
       SELECT ${DOCUMENT_COLUMNS}, b.id AS chunk_id, b.ordinal, b.text AS chunk_text, b.metadata AS chunk_metadata,
              1 - (b.embedding <=> $1::vector) AS similarity, b.lexical_rank
       FROM best b JOIN knowledge_documents d ON d.id = b.document_id
       ORDER BY b.lexical_rank DESC, d.weight DESC
       LIMIT $11`,
      [
        JSON.stringify(vector),
        this.embedder.model,
        options.kinds?.length ? options.kinds : null,
        options.environment ?? null,
        options.runbook ?? null,
        options.node ?? null,
        options.since ?? null,
        options.until ?? null,
        // Words of letters and digits only (checked above): nothing of the query's syntax reaches to_tsquery.
        words.join(' | '),
        searchBreadth(options.k).candidates,
        options.k,
      ],
    );
    return rows.map((row) => ({
      document: documentFromRow(row),
      chunk: { id: row.chunk_id, ordinal: row.ordinal, text: row.chunk_text, metadata: row.chunk_metadata },
      similarity: row.similarity,
      score: row.lexical_rank,
      lexicalRank: row.lexical_rank,
    }));
  }

  /** The query's vector, for callers that search several ways with one embedding. */
  async embedQuery(query: string): Promise<number[]> {
    const [vector] = await this.embedder.embed([query]);
    this.checkVectors(vector ? [vector] : [], 1);
    return vector!;
  }

  /** The k documents closest to a text, best first (see WEIGHT_INFLUENCE for the score). */
  async search(query: string, options: KnowledgeSearchOptions = {}): Promise<KnowledgeHit[]> {
    const [vector] = await this.embedder.embed([query]);
    this.checkVectors(vector ? [vector] : [], 1);
    return this.searchByVector(vector!, options);
  }

  /** The k documents closest to a vector made by this store's embedder. */
  async searchByVector(vector: number[], options: KnowledgeSearchOptions = {}): Promise<KnowledgeHit[]> {
    this.checkVectors([vector], 1);
    const k = Math.min(Math.max(Math.trunc(options.k ?? DEFAULT_K), 1), MAX_K);
    const { candidates, efSearch } = searchBreadth(k);
    // Settings for this transaction only: the pooled connection goes back unchanged. One round trip
    // (efSearch is a whole number of ours, not input), as each one counts at this latency.
    const begin = `BEGIN; SET LOCAL hnsw.ef_search = ${Math.trunc(efSearch)}; SET LOCAL hnsw.iterative_scan = relaxed_order`;
    const rows = await inTransaction(
      this.pool,
      async (client) => {
        const { rows } = await client.query<DocumentRow & { chunk_id: string; ordinal: number; chunk_text: string; chunk_metadata: ChunkMetadata; similarity: number; score: number }>(
          // Two walks of the HNSW graph: from the question, then from a probe on the far side of what the
          // first found (2q - mean of its chunks, normalised). A question spanning two topics lies between
          // two clusters and the first walk settles in one of them (recall@5 was 0.76 on such questions,
          // see bench/rag.ts); the probe reaches the other. Where the first walk found the neighbourhood
          // already, the probe lands in it again. Every candidate is scored by its distance to the question.
          `WITH first AS MATERIALIZED (
           SELECT c.id, c.document_id, c.ordinal, c.text, c.metadata, c.embedding, c.embedding <=> $1::vector AS distance
           FROM knowledge_chunks c
           JOIN knowledge_documents d ON d.id = c.document_id
           WHERE ${SEARCH_FILTERS}
           ORDER BY c.embedding <=> $1::vector
           LIMIT $9
         ), probe AS MATERIALIZED (
           SELECT coalesce(l2_normalize($1::vector + $1::vector - avg(embedding)), $1::vector) AS vector FROM first
         ), second AS MATERIALIZED (
           SELECT c.id, c.document_id, c.ordinal, c.text, c.metadata, c.embedding <=> $1::vector AS distance
           FROM knowledge_chunks c
           JOIN knowledge_documents d ON d.id = c.document_id
           WHERE ${SEARCH_FILTERS}
           ORDER BY c.embedding <=> (SELECT vector FROM probe)
           LIMIT $9
         ), nearest AS (
           SELECT id, document_id, ordinal, text, metadata, distance FROM first
           UNION ALL
           SELECT id, document_id, ordinal, text, metadata, distance FROM second
         ), best_chunk AS (
           SELECT DISTINCT ON (document_id) * FROM nearest ORDER BY document_id, distance
         )
         SELECT ${DOCUMENT_COLUMNS}, b.id AS chunk_id, b.ordinal, b.text AS chunk_text, b.metadata AS chunk_metadata,
                1 - b.distance AS similarity,
                1 - b.distance + $10 * ln(d.weight) / ln(2) AS score
         FROM best_chunk b
         JOIN knowledge_documents d ON d.id = b.document_id
         ORDER BY score DESC, similarity DESC, d.created_at DESC
         LIMIT $11`,
          [
            JSON.stringify(vector),
            this.embedder.model,
            options.kinds?.length ? options.kinds : null,
            options.environment ?? null,
            options.runbook ?? null,
            options.node ?? null,
            options.since ?? null,
            options.until ?? null,
            candidates,
            WEIGHT_INFLUENCE,
            k,
          ],
        );
        return rows;
      },
      begin,
    );
    return rows.map((row) => ({
      document: documentFromRow(row),
      chunk: { id: row.chunk_id, ordinal: row.ordinal, text: row.chunk_text, metadata: row.chunk_metadata },
      similarity: row.similarity,
      score: row.score,
    }));
  }

  /**
   * Feedback on a document (an approved or rejected plan, a run outcome, a
   * thumbs up or down): adds `delta` to its weight, kept within
   * MIN_WEIGHT..MAX_WEIGHT. Returns the new weight.
   */
  async applyFeedback(documentId: string, delta: number): Promise<number> {
    if (!Number.isFinite(delta)) throw new KnowledgeInputError('feedback must be a finite number');
    const { rows } = await this.pool.query<{ weight: number }>('UPDATE knowledge_documents SET weight = least(greatest(weight + $2, $3), $4) WHERE id = $1 RETURNING weight', [
      requireDocumentId(documentId),
      delta,
      MIN_WEIGHT,
      MAX_WEIGHT,
    ]);
    if (!rows[0]) throw new KnowledgeNotFoundError(`no knowledge document ${documentId}`);
    return rows[0].weight;
  }

  /** Records that a resolution (or plan, or note) fixed an incident (or failed run). */
  async linkResolution(incidentDocumentId: string, resolutionDocumentId: string): Promise<void> {
    requireDocumentId(incidentDocumentId);
    requireDocumentId(resolutionDocumentId);
    if (incidentDocumentId === resolutionDocumentId) throw new KnowledgeInputError('a document cannot resolve itself');
    await inTransaction(this.pool, async (client) => {
      await this.requireResolvable(client, incidentDocumentId);
      const { rows } = await client.query<{ kind: string }>('SELECT kind FROM knowledge_documents WHERE id = $1 FOR UPDATE', [resolutionDocumentId]);
      if (!rows[0]) throw new KnowledgeNotFoundError(`no knowledge document ${resolutionDocumentId}`);
      if (!(RESOLVING_KINDS as readonly string[]).includes(rows[0].kind)) {
        throw new KnowledgeInputError(`a ${rows[0].kind} cannot resolve an incident (only ${RESOLVING_KINDS.join(', ')})`);
      }
      await client.query('UPDATE knowledge_documents SET incident_id = $1 WHERE id = $2', [incidentDocumentId, resolutionDocumentId]);
    });
  }

  /** The documents linked as resolutions of an incident, most trusted first. */
  async resolutionsOf(incidentDocumentId: string): Promise<KnowledgeDocument[]> {
    const { rows } = await this.pool.query<DocumentRow>(`SELECT ${DOCUMENT_COLUMNS} FROM knowledge_documents d WHERE d.incident_id = $1 ORDER BY d.weight DESC, d.created_at DESC`, [
      requireDocumentId(incidentDocumentId),
    ]);
    return rows.map(documentFromRow);
  }

  /** Documents about one run (its failed_run document, the resolutions of its plan), newest first. */
  async documentsOfRun(runId: string, kinds?: KnowledgeDocument['kind'][]): Promise<KnowledgeDocument[]> {
    const { rows } = await this.pool.query<DocumentRow>(
      `SELECT ${DOCUMENT_COLUMNS} FROM knowledge_documents d WHERE d.run_id = $1 AND ($2::text[] IS NULL OR d.kind = ANY($2::text[])) ORDER BY d.created_at DESC`,
      [runId, kinds?.length ? kinds : null],
    );
    return rows.map(documentFromRow);
  }

  /** The runbook document of a runbook, if its description was ingested. */
  async runbookDocument(runbook: string): Promise<KnowledgeDocument | undefined> {
    const { rows } = await this.pool.query<DocumentRow>(`SELECT ${DOCUMENT_COLUMNS} FROM knowledge_documents d WHERE d.kind = 'runbook' AND d.runbook = $1 ORDER BY d.created_at DESC LIMIT 1`, [
      runbook,
    ]);
    return rows[0] ? documentFromRow(rows[0]) : undefined;
  }

  /** Removes a document and its chunks (a runbook description replaced by its new version). */
  async deleteDocument(id: string): Promise<void> {
    await this.pool.query('DELETE FROM knowledge_documents WHERE id = $1', [requireDocumentId(id)]);
  }

  /** Documents of a kind in an environment, newest first. */
  async listDocuments(options: { kind: KnowledgeDocument['kind']; environment: string; limit: number }): Promise<KnowledgeDocument[]> {
    const { rows } = await this.pool.query<DocumentRow>(`SELECT ${DOCUMENT_COLUMNS} FROM knowledge_documents d WHERE d.kind = $1 AND d.environment = $2 ORDER BY d.created_at DESC LIMIT $3`, [
      options.kind,
      options.environment,
      Math.min(Math.max(Math.trunc(options.limit), 1), 500),
    ]);
    return rows.map(documentFromRow);
  }

  async getDocument(id: string): Promise<KnowledgeDocument | undefined> {
    if (!UUID_PATTERN.test(id)) return undefined;
    const { rows } = await this.pool.query<DocumentRow>(`SELECT ${DOCUMENT_COLUMNS} FROM knowledge_documents d WHERE d.id = $1`, [id]);
    return rows[0] ? documentFromRow(rows[0]) : undefined;
  }

  private async requireResolvable(client: pg.PoolClient, incidentDocumentId: string): Promise<void> {
    const { rows } = await client.query<{ kind: string }>('SELECT kind FROM knowledge_documents WHERE id = $1', [incidentDocumentId]);
    if (!rows[0]) throw new KnowledgeNotFoundError(`no knowledge document ${incidentDocumentId}`);
    if (!(RESOLVABLE_KINDS as readonly string[]).includes(rows[0].kind)) {
      throw new KnowledgeInputError(`a ${rows[0].kind} cannot be resolved (only ${RESOLVABLE_KINDS.join(', ')})`);
    }
  }

  private checkVectors(vectors: number[][], expected: number): void {
    if (vectors.length !== expected) throw new Error(`the embedder ${this.embedder.model} returned ${vectors.length} vectors for ${expected} texts`);
    const wrong = vectors.find((vector) => vector.length !== this.embedder.dimensions);
    if (wrong) throw new Error(`the embedder ${this.embedder.model} returned a vector of ${wrong.length} dimensions, not ${this.embedder.dimensions}`);
    if (vectors.some((vector) => !vector.every(Number.isFinite))) throw new Error(`the embedder ${this.embedder.model} returned a vector with a value that is not a number`);
  }
}
