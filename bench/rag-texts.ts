// The text half of bench:rag: does retrieval find the right incidents for
// the questions operators ask, with the embedder in use (the local lexical
// one unless a model is configured), by vector search alone and by the hybrid
// search (vectors + PostgreSQL full text, fused by rank) that diagnosis uses?
//
// The corpus: for each scenario of bench/incident-scenarios.ts, the past
// incident as a team recorded it and the failed run Jarvis stored (both are
// right answers), among distractors: incidents made of the same operations
// vocabulary (deploys, services, hosts, errors of other kinds). Questions, per
// kind: `exact` (with the error's words), `paraphrase` (the same problem in
// other words), `cross_topic` (one question about two failures: both are
// right). recall@5 = right documents among the first 5 / right documents
// (at most 5).
import { readFailure } from '../ai/error-signatures.js';
import { hybridSearch } from '../ai/hybrid-search.js';
import type { KnowledgeStore } from '../ai/knowledge-store.js';
import type { emitterFor } from './figures.js';
import { INCIDENT_SCENARIOS } from './incident-scenarios.js';

const DISTRACTORS = 400;
const K = 5;

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const SERVICES = ['orders', 'billing', 'search', 'checkout', 'auth', 'inventory', 'reports', 'gateway', 'mailer', 'scheduler'];
const TROUBLES = [
  'deploy of version 2.3 stuck at 50% of replicas, health check returned 503',
  'p99 latency rose to 4 s after the cache hit ratio dropped',
  'cron job ran twice and sent duplicate emails',
  'feature flag rollout broke the login page for Safari users',
  'queue backlog of 200000 messages after the consumer crashed with a null pointer',
  'TLS handshake is slow because OCSP stapling is off',
  'replica lag of 15 minutes on the read database after a long vacuum',
  'CPU throttling of the container at its 500m limit',
  'a bad migration dropped an index and queries did full scans',
  'rate limit of the partner API reached: HTTP 429 Too Many Requests',
  'config map change not picked up until the pods restarted',
  'clock skew of 90 s broke token validation',
];

export async function benchTextRecall(store: KnowledgeStore, emit: ReturnType<typeof emitterFor>): Promise<void> {
  const random = seeded(11);
  const relevant = new Map<string, string[]>();
  const started = performance.now();
  for (const scenario of INCIDENT_SCENARIOS) {
    const incident = await store.addDocument({
      kind: 'incident',
      title: scenario.past.title,
      body: `Symptoms: ${scenario.past.symptoms}\nCause: ${scenario.past.cause}`,
      environment: 'prod',
      metadata: { scenario: scenario.id },
      logLines: [{ number: 1, text: scenario.past.symptoms }],
    });
    const reading = readFailure(scenario.log.map(([stream, text], index) => ({ seq: index + 1, stream, text })));
    const run = await store.addDocument({
      kind: 'failed_run',
      title: `fail-${scenario.id} failed at step run: ${reading.cause ?? scenario.firstError}`,
      body: [`Cause: ${reading.cause ?? scenario.firstError}`, 'Error lines:', ...reading.errorLines.map((line) => line.text)].join('\n'),
      environment: 'prod',
      metadata: { scenario: scenario.id, embedTitle: false },
      logLines: scenario.log.map(([, text], index) => ({ number: index + 1, text: `[run] ${text}` })),
    });
    relevant.set(scenario.id, [incident.id, run.id]);
  }
  for (let index = 0; index < DISTRACTORS; index += 1) {
    const service = SERVICES[Math.floor(random() * SERVICES.length)]!;
    const trouble = TROUBLES[Math.floor(random() * TROUBLES.length)]!;
    await store.addDocument({
      kind: index % 2 ? 'incident' : 'failed_run',
      title: `${service}: ${trouble.split(',')[0]}`,
      body: `Symptoms: ${service} ${trouble}\nCause: under investigation`,
      environment: 'prod',
    });
  }
  emit('text_corpus_load_time', (performance.now() - started) / 1_000, 's', { documents: INCIDENT_SCENARIOS.length * 2 + DISTRACTORS, embedder: store.embeddingModel });

  const questions: Array<{ kind: 'exact' | 'paraphrase' | 'cross_topic'; text: string; right: string[] }> = [];
  for (const [index, scenario] of INCIDENT_SCENARIOS.entries()) {
    questions.push({ kind: 'exact', text: scenario.question, right: relevant.get(scenario.id)! });
    questions.push({ kind: 'paraphrase', text: scenario.paraphrase, right: relevant.get(scenario.id)! });
    const other = INCIDENT_SCENARIOS[(index + 3) % INCIDENT_SCENARIOS.length]!;
    questions.push({ kind: 'cross_topic', text: `${scenario.question}, and also ${other.paraphrase}`, right: [...relevant.get(scenario.id)!, ...relevant.get(other.id)!] });
  }
  const options = { environment: 'prod', kinds: ['incident' as const, 'failed_run' as const], k: K };
  for (const path of ['vector', 'hybrid'] as const) {
    for (const kind of ['exact', 'paraphrase', 'cross_topic'] as const) {
      const recalls: number[] = [];
      const latencies: number[] = [];
      for (const question of questions.filter((candidate) => candidate.kind === kind)) {
        const begin = performance.now();
        const hits = path === 'vector' ? await store.search(question.text, options) : await hybridSearch(store, question.text, options);
        latencies.push(performance.now() - begin);
        const found = new Set(hits.map((hit) => hit.document.id));
        recalls.push(question.right.filter((id) => found.has(id)).length / Math.min(question.right.length, K));
      }
      const sorted = [...latencies].sort((a, b) => a - b);
      emit(`text_${kind}_${path}_recall_at_5`, recalls.reduce((total, value) => total + value, 0) / recalls.length, 'ratio', {
        kind,
        path,
        embedder: store.embeddingModel,
        questions: recalls.length,
        p50Ms: Math.round(sorted[Math.floor(sorted.length / 2)]! * 100) / 100,
      });
    }
  }
}
