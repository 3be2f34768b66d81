// What the knowledge base holds: the document kinds, a new document as
// callers give it (parsed by a schema, since it comes from runs, plans and
// users), and documents and search hits as the store returns them.
import { z } from 'zod';

export const KNOWLEDGE_KINDS = ['runbook', 'failed_run', 'incident', 'resolution', 'plan', 'note', 'answer'] as const;
export type KnowledgeKind = (typeof KNOWLEDGE_KINDS)[number];

/** Kinds that can be resolved, and kinds that can resolve them (linkResolution). */
export const RESOLVABLE_KINDS: readonly KnowledgeKind[] = ['incident', 'failed_run'];
export const RESOLVING_KINDS: readonly KnowledgeKind[] = ['resolution', 'plan', 'note'];

const optionalName = z.string().trim().min(1).max(200).optional();
// PostgreSQL text cannot hold NUL, and logs sometimes do.
const withoutNul = (text: string) => text.replaceAll('\u0000', '');

export const newKnowledgeDocumentSchema = z.object({
  kind: z.enum(KNOWLEDGE_KINDS),
  title: z.string().trim().min(1).max(500).transform(withoutNul),
  body: z.string().max(200_000).transform(withoutNul),
  environment: optionalName,
  runbook: optionalName,
  node: optionalName,
  runId: optionalName,
  /** The incident (or failed run) document this one resolves. */
  incidentId: z.uuid().optional(),
  metadata: z.record(z.string(), z.unknown()).default({}),
  createdBy: z.string().min(1).max(320).optional(),
  /** Defaults to now; set when importing history. */
  createdAt: z.date().optional(),
  /** Log lines the document quotes, chunked apart from the body so chunks keep their line numbers. */
  logLines: z.array(z.object({ number: z.number().int(), text: z.string().transform(withoutNul) })).max(20_000).default([]),
});

export type NewKnowledgeDocument = z.input<typeof newKnowledgeDocumentSchema>;

export interface KnowledgeDocument {
  id: string;
  kind: KnowledgeKind;
  title: string;
  body: string;
  environment: string | null;
  runbook: string | null;
  node: string | null;
  runId: string | null;
  incidentId: string | null;
  metadata: Record<string, unknown>;
  weight: number;
  createdBy: string | null;
  createdAt: string;
}

export interface ChunkMetadata {
  /** Whether the chunk is from the document's body or from the log lines it quotes. */
  source: 'body' | 'log';
  /** Line numbers: 1-based in the body, or the log lines' own numbers (a run log's sequence numbers). */
  firstLine: number;
  lastLine: number;
}

export interface KnowledgeHit {
  document: KnowledgeDocument;
  /** The document's chunk closest to the query. */
  chunk: { id: string; ordinal: number; text: string; metadata: ChunkMetadata };
  /** Cosine similarity of the query and the chunk, -1 to 1. */
  similarity: number;
  /** The similarity adjusted by the document's feedback weight; hits are ordered by it. */
  score: number;
}

export interface KnowledgeSearchOptions {
  /** How many documents to return (default 5, at most 50). */
  k?: number;
  kinds?: KnowledgeKind[];
  environment?: string;
  runbook?: string;
  node?: string;
  /** Documents created at or after this time. */
  since?: Date;
  /** Documents created before this time. */
  until?: Date;
}

export class KnowledgeInputError extends Error {
  override name = 'KnowledgeInputError';
}

export class KnowledgeNotFoundError extends Error {
  override name = 'KnowledgeNotFoundError';
}

export interface DocumentRow {
  id: string;
  kind: KnowledgeKind;
  title: string;
  body: string;
  environment: string | null;
  runbook: string | null;
  node: string | null;
  run_id: string | null;
  incident_id: string | null;
  metadata: Record<string, unknown>;
  weight: number;
  created_by: string | null;
  created_at: Date;
}

export const DOCUMENT_COLUMNS = 'd.id, d.kind, d.title, d.body, d.environment, d.runbook, d.node, d.run_id, d.incident_id, d.metadata, d.weight, d.created_by, d.created_at';

export function documentFromRow(row: DocumentRow): KnowledgeDocument {
  return {
    id: row.id,
    kind: row.kind,
    title: row.title,
    body: row.body,
    environment: row.environment,
    runbook: row.runbook,
    node: row.node,
    runId: row.run_id,
    incidentId: row.incident_id,
    metadata: row.metadata,
    weight: row.weight,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
  };
}
