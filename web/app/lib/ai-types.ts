// The AI API's answers as the web app reads them (diagnosis, chat, plans,
// knowledge search), shared by the server routes and the browser components.

export interface Citation {
  n: number;
  kind: 'step' | 'log' | 'history' | 'incident' | 'document';
  runId?: string;
  stepId?: string;
  /** Sequence numbers of the run's live log lines. */
  lines?: { from: number; to: number };
  documentId?: string;
  title: string;
}

export interface Accounting {
  model: string;
  promptTokens: number;
  completionTokens: number;
  latencyMs: number;
  costUsd: number;
}

export interface SimilarIncident {
  documentId: string;
  kind?: string;
  title: string;
  /** The hybrid search's fused score (1: first by vectors and by words). */
  score: number;
  /** Cosine similarity of the best matching chunk. */
  similarity?: number;
  runId?: string;
  resolutions: Array<{ documentId: string; title: string; runbook?: string }>;
}

export interface Diagnosis {
  id: string;
  cause: string;
  /** Lines addressed to an AI assistant: flagged, never the cause. */
  suspectLines?: Array<{ seq: number; text: string }>;
  answer: string;
  citations: Citation[];
  similarIncidents: SimilarIncident[];
  /** null: no model configured, the answer comes from past incidents only. */
  model: string | null;
  accounting?: Accounting;
}

export interface PlanStep {
  id: string;
  title?: string;
  action?: string;
  approval?: { role?: string; required?: number } | boolean;
  with?: Record<string, unknown>;
}

export interface PlanError {
  path: string;
  message: string;
}

export interface PlanRisk {
  level: string;
  score: number;
  steps: Array<{ id: string; action: string; risk: string }>;
}

export interface Plan {
  id: string;
  environment: string;
  goal: string;
  manifest: { name?: string; title?: string; steps?: PlanStep[] } & Record<string, unknown>;
  valid: boolean;
  errors: PlanError[];
  risk: PlanRisk;
  source: 'model' | 'past-resolutions';
  model: string | null;
  status: 'proposed' | 'submitted' | 'succeeded' | 'failed' | 'rejected';
  /** The run the plan is about, if any. */
  runId?: string | null;
  /** The run that submitting the plan started. */
  submittedRunId?: string | null;
}

export interface SearchHit {
  documentId: string;
  kind: string;
  title: string;
  snippet: string;
  score: number;
  runId?: string;
  createdAt: string;
}

/** Where a citation leads: the run page at the cited step and log lines, or a knowledge search. */
export function citationHref(citation: Citation): string {
  if (citation.runId) {
    const query = new URLSearchParams();
    if (citation.stepId) query.set('step', citation.stepId);
    if (citation.lines) query.set('lines', `${citation.lines.from}-${citation.lines.to}`);
    const search = query.toString();
    return `/runs/${encodeURIComponent(citation.runId)}${search ? `?${search}` : ''}${citation.lines ? '#logs' : ''}`;
  }
  return `/ai?${new URLSearchParams({ q: citation.title })}#search`;
}

/** Reads `lines=FROM-TO` (or a single `N`) from a run page's address. */
export function parseLineRange(value: string | null): { from: number; to: number } | undefined {
  const match = /^(\d+)(?:-(\d+))?$/.exec(value ?? '');
  if (!match) return undefined;
  const from = Number(match[1]);
  const to = Number(match[2] ?? match[1]);
  return to >= from ? { from, to } : { from: to, to: from };
}
