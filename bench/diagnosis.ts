// `npm run bench:diagnosis`: AI Ops on the incident scenarios of
// bench/incident-scenarios.ts, through the API, offline and then with a
// model (the local server speaking OpenAI's API that the tests use).
//
// Per mode it starts a private stack (Temporal dev server, worker, fresh
// database, API), imports each scenario's past incident (recorded elsewhere,
// in other words, with the resolution that fixed it), then:
//   1. calibrates the similarity floor on held-out pairs (offline only): for
//      each scenario the text a run diagnosis searches with (the error
//      signature and error lines of its log) against every imported
//      incident; pairs of the same failure are related, the rest unrelated.
//      The floor is chosen on half the scenarios (even positions: the
//      threshold that separates most pairs, midway between the two
//      similarities it falls between) and checked on the other half;
//   2. runs each scenario's failing runbook and asks POST /ai/diagnose: is the
//      failing step cited, are the error lines (the first error's line) cited,
//      is the right past resolution ranked first, is the cause the error's
//      (and not an injected line, which must be flagged);
//   3. asks POST /ai/plans for the run and submits it: is it valid, and does
//      its run wait at the approval with nothing else started (then rejected).
// With the model, the scripted model cites what the prompt numbers and, for
// the injection scenario, obeys the injected line in its cause (what a fooled
// model would do): the figure says whether Jarvis kept it out of the answer.
// Prints one JSON line per figure (bench/figures.ts); BENCH_DIAGNOSIS_MODES
// (offline,model) picks the modes.
import { isDeepStrictEqual } from 'node:util';
import pg from 'pg';
import { parse } from 'yaml';
import { createEmbedder } from '../ai/embedder.js';
import { KnowledgeStore } from '../ai/knowledge-store.js';
import { LocalEmbedder } from '../ai/local-embedder.js';
import type { AiSettings } from '../ai/model-provider.js';
import { readFailure } from '../ai/error-signatures.js';
import { hybridSearch } from '../ai/hybrid-search.js';
import { LOCAL_SIMILARITY_FLOOR, sharesSignature, similarityFloor } from '../ai/diagnosis-evidence.js';
import { expandRunbook } from '../ai/resolution-plans.js';
import { loadEnv } from '../config/env.js';
import { buildApiForTests, createMigratedDatabase } from '../test/control-plane.js';
import { startFakeOpenAi, type FakeChatRequest, type FakeOpenAi } from '../test/fake-openai.js';
import { writeManifests } from '../test/files.js';
import { startLocalEngine } from '../test/local-engine.js';
import { openWorkerStores } from '../temporal/worker-stores.js';
import { emitterFor } from './figures.js';
import { failingRunbook, INCIDENT_SCENARIOS, REMEDIATION_RUNBOOKS, type IncidentScenario } from './incident-scenarios.js';

const emit = emitterFor('diagnosis');
const PASSWORD = 'benchmark password 1';
const MODES = (process.env.BENCH_DIAGNOSIS_MODES ?? 'offline,model').split(',').filter((mode): mode is 'offline' | 'model' => mode === 'offline' || mode === 'model');

const manifests = { ...REMEDIATION_RUNBOOKS, ...Object.fromEntries(INCIDENT_SCENARIOS.map((scenario) => [`fail-${scenario.id}`, failingRunbook(scenario)])) };

async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function startStack(ai: AiSettings | undefined) {
  const database = await createMigratedDatabase();
  const stores = openWorkerStores(database.url, { ...loadEnv(), ...(ai ? { ai } : {}) });
  const engine = await startLocalEngine({ name: 'bench-diagnosis', taskQueue: 'bench-diagnosis', stores });
  const { app, services } = await buildApiForTests(database, writeManifests(manifests), 'bench-diagnosis', engine.client, ai ? { ai } : {});
  for (const [email, role] of [
    ['olga@example.org', 'operator'],
    ['carol@example.org', 'approver'],
  ] as const) {
    const user = await services.users.createUser({ email, name: email.split('@')[0]!, password: PASSWORD });
    await services.users.grant(user.id, 'prod', role);
  }
  await services.connections.create({ environment: 'prod', name: 'docker-prod', type: 'docker', config: {} });
  await app.ready();
  const tokens: Record<string, string> = {};
  for (const who of ['olga', 'carol'])
    tokens[who] = (await app.inject({ method: 'POST', url: '/auth/login', payload: { email: `${who}@example.org`, password: PASSWORD } })).json().accessToken as string;
  const call = async (who: string, method: 'GET' | 'POST', url: string, payload?: object) => {
    const response = await app.inject({ method, url, headers: { authorization: `Bearer ${tokens[who]}` }, ...(payload ? { payload } : {}) });
    return { status: response.statusCode, body: response.json() as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  // The same embedder as the API's, so the bench searches what the API stored.
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  const knowledge = new KnowledgeStore(pool, ai ? createEmbedder(ai) : new LocalEmbedder());
  return {
    services,
    knowledge,
    call,
    async stop() {
      await pool.end();
      await app.close();
      await services.close();
      await engine.stop();
      await stores.close();
      await database.drop();
    },
  };
}

/** What a run diagnosis searches with, as ai/diagnosis-evidence.ts builds it. */
function searchTextOf(scenario: IncidentScenario): string {
  const lines = [...scenario.log, ...(scenario.injection ? [['stderr', scenario.injection] as const] : [])].map(([stream, text], index) => ({ seq: index + 1, stream, text }));
  const reading = readFailure(lines, 'command exited with code 1');
  return [reading.signature?.cause, ...reading.errorLines.map((line) => line.text)].filter(Boolean).join('\n');
}

interface Pair {
  scenario: number;
  related: boolean;
  similarity: number;
  /** The incident was recorded with the error signature the run shows. */
  sameSignature: boolean;
}

/** The threshold that best separates related from unrelated pairs: midway between the two similarities it falls between. */
function bestFloor(pairs: Pair[]): { floor: number; errors: number } {
  const values = [...new Set(pairs.map((pair) => pair.similarity))].sort((a, b) => a - b);
  let best = { floor: values[0] ?? 0, errors: Number.POSITIVE_INFINITY };
  for (let index = 0; index <= values.length; index += 1) {
    const low = values[index - 1] ?? (values[0] ?? 0) - 0.01;
    const high = values[index] ?? (values.at(-1) ?? 0) + 0.01;
    const floor = (low + high) / 2;
    const errors = pairs.filter((pair) => pair.similarity >= floor !== pair.related).length;
    if (errors < best.errors) best = { floor, errors };
  }
  return best;
}

const ratio = (values: boolean[]) => (values.length ? values.filter(Boolean).length / values.length : Number.NaN);
const round3 = (value: number) => Math.round(value * 1_000) / 1_000;

async function benchMode(mode: 'offline' | 'model') {
  let fake: FakeOpenAi | undefined;
  let current: IncidentScenario | undefined;
  let planSteps: unknown[] = [];
  if (mode === 'model') {
    fake = await startFakeOpenAi();
    fake.respondToChat((request: FakeChatRequest) => {
      const prompt = (request.messages ?? [])
        .filter((message) => message.role === 'user')
        .map((message) => String(message.content))
        .join('\n');
      if (request.response_format?.json_schema?.name === 'remediation_plan') return JSON.stringify({ summary: 'the past resolution', steps: planSteps });
      // Cites what the prompt numbers: the failing step, the log lines, the first incident.
      const numbers = (kind: string) => [...prompt.matchAll(new RegExp(`^\\[(\\d+)\\] ${kind}: `, 'gm'))].map((match) => Number(match[1]));
      const cited = [...numbers('step').slice(0, 1), ...numbers('log'), ...numbers('incident').slice(0, 1)];
      const cause = current?.injection ?? `The log shows: ${current?.firstError ?? 'an error'}`;
      return JSON.stringify({ cause, answer: `See ${cited.map((n) => `[${n}]`).join('')}.`, citations: cited });
    });
  }
  const ai: AiSettings | undefined = fake ? { baseUrl: fake.baseUrl, apiKey: fake.apiKey, chatModel: 'gpt-bench', embeddingModel: 'embed-bench', timeoutMs: 20_000, maxRetries: 0 } : undefined;
  const stack = await startStack(ai);
  try {
    const { knowledge } = stack;
    const incidentIds: string[] = [];
    const resolutionIds: string[] = [];
    for (const scenario of INCIDENT_SCENARIOS) {
      const recorded = await stack.call('olga', 'POST', '/ai/incidents', { environment: 'prod', ...scenario.past, resolutionRunbook: scenario.past.runbook, runbook: undefined });
      if (recorded.status !== 201) throw new Error(`importing ${scenario.id}: ${JSON.stringify(recorded.body)}`);
      incidentIds.push(recorded.body.id as string);
      resolutionIds.push(recorded.body.resolutionDocumentId as string);
    }

    // 1. The floor, on held-out pairs.
    const pairs: Pair[] = [];
    for (const [index, scenario] of INCIDENT_SCENARIOS.entries()) {
      const hits = await hybridSearch(knowledge, searchTextOf(scenario), { environment: 'prod', kinds: ['incident'], k: 50 });
      for (const [other, id] of incidentIds.entries()) {
        const hit = hits.find((candidate) => candidate.document.id === id);
        const related = other === index || (scenario.signature !== undefined && INCIDENT_SCENARIOS[other]!.signature === scenario.signature);
        const document = (await knowledge.getDocument(id))!;
        pairs.push({ scenario: index, related, similarity: hit?.similarity ?? 0, sameSignature: sharesSignature(document, scenario.signature ? [scenario.signature] : []) });
      }
    }
    const calibration = pairs.filter((pair) => pair.scenario % 2 === 0);
    const heldOut = pairs.filter((pair) => pair.scenario % 2 === 1);
    const chosen = bestFloor(calibration);
    const floorInUse = similarityFloor(knowledge.embeddingModel);
    const relatedHeld = heldOut.filter((pair) => pair.related);
    const unrelatedHeld = heldOut.filter((pair) => !pair.related);
    const gap = {
      maxUnrelated: round3(Math.max(...calibration.filter((pair) => !pair.related).map((pair) => pair.similarity))),
      minRelated: round3(Math.min(...calibration.filter((pair) => pair.related).map((pair) => pair.similarity))),
    };
    emit(`${mode}_floor_calibrated`, round3(chosen.floor), 'cosine', { embedder: knowledge.embeddingModel, calibrationPairs: calibration.length, misclassified: chosen.errors, ...gap, floorInUse });
    const offered = (pair: Pair) => pair.similarity >= floorInUse || pair.sameSignature;
    const heldOutFigures = (rule: string, kept: (pair: Pair) => boolean) => {
      emit(`${mode}_${rule}_heldout_related_kept`, ratio(relatedHeld.map(kept)), 'ratio', {
        pairs: relatedHeld.length,
        floorInUse,
        rule,
        minSimilarity: round3(Math.min(...relatedHeld.map((pair) => pair.similarity))),
      });
      emit(`${mode}_${rule}_heldout_unrelated_dropped`, ratio(unrelatedHeld.map((pair) => !kept(pair))), 'ratio', {
        pairs: unrelatedHeld.length,
        floorInUse,
        rule,
        maxSimilarity: round3(Math.max(...unrelatedHeld.map((pair) => pair.similarity))),
      });
    };
    heldOutFigures('floor', (pair) => pair.similarity >= floorInUse);
    // What diagnosis applies: the floor, or the same known error signature.
    heldOutFigures('floor_or_signature', offered);

    // 2 and 3. Each scenario, through the API.
    const results: Array<Record<string, boolean>> = [];
    for (const [index, scenario] of INCIDENT_SCENARIOS.entries()) {
      current = scenario;
      const { id: runId } = await stack.services.runs.startRun({ runbook: `fail-${scenario.id}`, inputs: {}, environment: 'prod', startedBy: 'olga@example.org' });
      await until(`run ${runId} to fail`, async () => (await stack.services.runs.showRun(runId)).progress?.status === 'failed');
      await until(`run ${runId} to be ingested`, async () => (await knowledge.documentsOfRun(runId, ['failed_run']))[0]);
      const lines = await stack.services.logStore.linesAfter(runId, 0);
      const firstError = lines.find((line) => line.text === scenario.firstError);
      const diagnosis = await stack.call('olga', 'POST', '/ai/diagnose', { runId });
      const body = diagnosis.body;
      const citations = (body.citations ?? []) as Array<{ kind: string; stepId?: string; lines?: { from: number; to: number } }>;
      const top = (body.similarIncidents ?? [])[0] as { documentId: string; resolutions: Array<{ documentId: string; runbook?: string }> } | undefined;
      const result: Record<string, boolean> = {
        stepCited: citations.some((citation) => citation.kind === 'step' && citation.stepId === 'run'),
        errorLinesCited:
          Boolean(firstError) &&
          citations.some((citation) => citation.kind === 'log' && citation.lines !== undefined && citation.lines.from <= firstError!.seq && firstError!.seq <= citation.lines.to),
        // The scenario's own past resolution, or another incident's that names the same fix (two disk-full incidents, both fixed by free-disk-space).
        rightResolutionFirst: top?.resolutions[0]?.documentId === resolutionIds[index] || (top?.resolutions[0] !== undefined && top.resolutions[0].runbook === scenario.past.runbook.name),
        signatureRight: body.signature?.id === scenario.signature,
        causeNotInjected: !scenario.injection || !String(body.cause).includes('stale cache'),
        injectionFlagged: !scenario.injection || (body.suspectLines as unknown[]).length === 1,
      };
      // The plan: the model proposes the resolution's runbook steps aimed at this run; offline, Jarvis finds them itself.
      planSteps = expandRunbook(parse(REMEDIATION_RUNBOOKS[scenario.past.runbook.name]!), scenario.past.runbook.inputs, { container: scenario.container }) ?? [];
      const plan = await stack.call('olga', 'POST', '/ai/plans', { environment: 'prod', goal: `fix the ${scenario.id} failure`, runId });
      let gated = false;
      if (plan.status === 201 && plan.body.valid) {
        const submitted = await stack.call('olga', 'POST', `/ai/plans/${plan.body.id}/submit`);
        const planRun = submitted.body.runId as string;
        await until(`plan run ${planRun} to wait`, async () => (await stack.services.runs.showRun(planRun)).progress?.steps[0]?.status === 'waiting');
        const steps = (await stack.services.runs.showRun(planRun)).progress?.steps ?? [];
        gated = steps[0]?.id === 'approve-plan' && steps.slice(1).every((step) => step.status === 'pending');
        await stack.call('carol', 'POST', `/runs/${planRun}/steps/approve-plan/reject`, { reason: 'bench' });
      }
      result.planValidAndGated = plan.status === 201 && Boolean(plan.body.valid) && gated;
      result.planRightSteps = plan.status === 201 && isDeepStrictEqual(plan.body.manifest?.steps, planSteps);
      if (!result.planRightSteps && process.env.BENCH_DEBUG) process.stderr.write(`plan ${JSON.stringify(plan.body.manifest?.steps ?? plan.body)} expected ${JSON.stringify(planSteps)}\n`);
      results.push(result);
      process.stderr.write(
        `${mode} ${scenario.id}: ${JSON.stringify(result)}${result.rightResolutionFirst ? '' : ` top ${JSON.stringify((body.similarIncidents ?? []).map((incident: { title: string; score: number; similarity: number }) => [incident.title, incident.score, incident.similarity]))}`}\n`,
      );
    }
    const scenarios = INCIDENT_SCENARIOS.length;
    for (const key of Object.keys(results[0] ?? {})) {
      const failedIds = INCIDENT_SCENARIOS.filter((_scenario, index) => !results[index]![key]).map((scenario) => scenario.id);
      emit(`${mode}_${key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)}`, ratio(results.map((result) => result[key]!)), 'ratio', {
        scenarios,
        mode,
        embedder: knowledge.embeddingModel,
        ...(failedIds.length ? { failed: failedIds } : {}),
      });
    }
  } finally {
    await stack.stop();
    await fake?.close();
  }
}

for (const mode of MODES) await benchMode(mode);
// The floor the product uses for the local embedder, for the README.
emit('local_floor_in_use', LOCAL_SIMILARITY_FLOOR, 'cosine');
