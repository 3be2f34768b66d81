// Hybrid retrieval: the vector search (pgvector) and the full-text search
// (PostgreSQL tsvector) of the knowledge base, fused by reciprocal rank
// (RRF: each list adds 1 / (60 + rank) for a document). Vectors find a
// paraphrase the words miss; words find the exact error signature a vector
// may blur among similar-sounding failures. Rank fusion needs no common scale
// between cosine similarity and ts_rank.
import type { KnowledgeHit, KnowledgeSearchOptions } from './knowledge-documents.js';
import type { KnowledgeStore } from './knowledge-store.js';

/** The usual RRF constant: it damps the difference between the first ranks. */
export const RRF_K = 60;
/** A document first in both lists scores 2 / (RRF_K + 1): scores are scaled so that this is 1. */
const BEST_FUSED = 2 / (RRF_K + 1);

export interface HybridHit extends KnowledgeHit {
  /** 1-based rank in the vector list and in the full-text list (absent: not in that list). */
  vectorRank?: number;
  lexicalRank?: number;
}

/** Fuses ranked lists of hits by reciprocal rank; a document keeps the hit (chunk) with the higher similarity. */
export function fuseByRank(vectorHits: KnowledgeHit[], lexicalHits: KnowledgeHit[], k: number): HybridHit[] {
  const fused = new Map<string, { hit: HybridHit; total: number }>();
  const add = (hits: KnowledgeHit[], which: 'vectorRank' | 'lexicalRank') => {
    hits.forEach((hit, index) => {
      const rank = index + 1;
      const entry = fused.get(hit.document.id);
      if (!entry) {
        fused.set(hit.document.id, { hit: { ...hit, [which]: rank }, total: 1 / (RRF_K + rank) });
        return;
      }
      entry.total += 1 / (RRF_K + rank);
      entry.hit = { ...(hit.similarity > entry.hit.similarity ? { ...entry.hit, chunk: hit.chunk, similarity: hit.similarity } : entry.hit), [which]: rank };
    });
  };
  add(vectorHits, 'vectorRank');
  add(lexicalHits, 'lexicalRank');
  return [...fused.values()]
    .map(({ hit, total }) => ({ ...hit, score: Math.round((total / BEST_FUSED) * 10_000) / 10_000 }))
    .sort((a, b) => b.score - a.score || b.similarity - a.similarity)
    .slice(0, k);
}

/** The k documents best for a text by hybrid search, best first; `score` is the fused score (1: first in both lists). */
export async function hybridSearch(store: KnowledgeStore, query: string, options: KnowledgeSearchOptions = {}): Promise<HybridHit[]> {
  const k = Math.min(Math.max(Math.trunc(options.k ?? 5), 1), 50);
  // Each list looks deeper than k so that a document ranked low by one and high by the other still meets both.
  const depth = Math.min(k * 3, 50);
  const vector = await store.embedQuery(query);
  const [vectorHits, lexicalHits] = await Promise.all([store.searchByVector(vector, { ...options, k: depth }), store.lexicalSearch(query, vector, { ...options, k: depth })]);
  return fuseByRank(vectorHits, lexicalHits, k);
}
