// `npm run bench:compose`: our Compose corpus (test/fixtures/compose) against
// Docker itself on the test Swarm. Baseline in the same run: `docker stack
// deploy --resolve-image never`'s own verdict on each file. Prints how many
// files Jarvis accepts, refuses with a reason, and how many service fields
// differ from what Docker created, then the time Jarvis takes to read a file
// into its Engine specs next to the time `docker stack deploy` takes.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadEnv } from '../config/env.js';
import { planStack } from '../infra/compose/stack-plan.js';
import { CORPUS_DIR, CorpusChecker, loadCorpus } from '../test/compose-corpus.js';
import { emitterFor } from './figures.js';

const emit = emitterFor('compose');
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

const corpus = loadCorpus();
const checker = new CorpusChecker(loadEnv().testDockerSocket);
const results = [];
const dockerMs: number[] = [];
for (const [index, entry] of corpus.entries()) {
  const began = performance.now();
  const result = await checker.check(entry, 1000 + index);
  dockerMs.push(performance.now() - began);
  results.push(result);
  console.error(`${entry.file}: docker ${result.docker.verdict}, jarvis ${result.jarvis.verdict}${result.jarvis.reasons[0] ? ` (${result.jarvis.reasons[0]})` : ''}${result.mismatches.length ? `, mismatching: ${result.mismatches.join('; ')}` : ''}`);
}

// Reading alone: the Compose file into Engine specs, many times per file.
const planMs: number[] = [];
for (const entry of corpus) {
  const text = readFileSync(path.join(CORPUS_DIR, entry.file), 'utf8');
  for (let repeat = 0; repeat < 20; repeat++) {
    const began = performance.now();
    planStack({ text, stack: 'bench', variables: entry.variables, workingDir: path.dirname(path.join(CORPUS_DIR, entry.file)) });
    planMs.push(performance.now() - began);
  }
}

const extra = { files: corpus.length };
emit('docker_accepted', results.filter((result) => result.docker.verdict === 'accepted').length, 'files', { ...extra, baseline: true });
emit('jarvis_accepted', results.filter((result) => result.jarvis.verdict === 'accepted').length, 'files', extra);
emit('jarvis_refused_with_reason', results.filter((result) => result.jarvis.verdict === 'refused' && result.jarvis.reasons.length > 0).length, 'files', extra);
emit('verdicts_agreeing_with_docker', results.filter((result) => result.jarvis.verdict === result.docker.verdict).length, 'files', extra);
emit('mismatching_service_fields', results.reduce((total, result) => total + result.mismatches.length, 0), 'fields', { ...extra, services: results.reduce((total, result) => total + result.services, 0) });
emit('jarvis_plan_p50', median(planMs), 'ms', { ...extra, definition: 'Compose file to Engine specs, no engine' });
emit('docker_and_jarvis_deploy_check_p50', median(dockerMs), 'ms', { ...extra, definition: 'per file: docker stack deploy, Jarvis apply, inspect both, remove both' });
process.exit(results.every((result) => result.jarvis.verdict === result.docker.verdict && result.mismatches.length === 0) ? 0 : 1);
