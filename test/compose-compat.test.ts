// Compose compatibility, against Docker itself on the test Swarm: every file of
// our corpus (test/fixtures/compose, written with the shapes of public stack
// files) gets the same verdict from Jarvis as from `docker stack deploy
// --resolve-image never`, the one it expects, and the services Jarvis creates
// match Docker's field by field. The acceptance table is printed.
import { afterAll, describe, expect, it } from 'vitest';
import { loadEnv } from '../config/env.js';
import { CorpusChecker, loadCorpus, type CorpusResult } from './compose-corpus.js';

const checker = new CorpusChecker(loadEnv().testDockerSocket);
const corpus = loadCorpus();
const results: CorpusResult[] = [];

afterAll(() => {
  const accepted = results.filter((result) => result.jarvis.verdict === 'accepted').length;
  const refused = results.filter((result) => result.jarvis.verdict === 'refused' && result.jarvis.reasons.length > 0).length;
  const mismatching = results.reduce((total, result) => total + result.mismatches.length, 0);
  console.log(`compose corpus: ${results.length} files, ${accepted} accepted, ${refused} refused with a reason, ${mismatching} mismatching fields`);
  for (const result of results) {
    console.log(
      `  ${result.file}: docker ${result.docker.verdict}, jarvis ${result.jarvis.verdict}${result.jarvis.reasons[0] ? ` (${result.jarvis.reasons[0]})` : ''}${result.mismatches.length ? `, ${result.mismatches.length} mismatching` : ''}`,
    );
  }
});

describe('Compose files as docker stack deploy reads them, checked against Docker', () => {
  it('has a corpus with at least 15 files, accepted and refused ones', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(15);
    expect(corpus.filter((entry) => entry.expect === 'accepted').length).toBeGreaterThanOrEqual(15);
    expect(corpus.filter((entry) => entry.expect === 'refused').length).toBeGreaterThanOrEqual(4);
  });

  corpus.forEach((entry, index) => {
    it(`${entry.file}: ${entry.expect} by Docker and Jarvis alike${entry.expect === 'accepted' ? ', with the same services' : ', with a reason'}`, async () => {
      const result = await checker.check(entry, index);
      results.push(result);
      expect(result.docker.verdict, result.docker.output).toBe(entry.expect);
      expect(result.jarvis.verdict, result.jarvis.reasons.join('\n')).toBe(entry.expect);
      if (entry.expect === 'accepted') {
        expect(result.services).toBeGreaterThan(0);
        expect(result.mismatches).toEqual([]);
      } else {
        expect(result.jarvis.reasons.length).toBeGreaterThan(0);
        expect(result.jarvis.reasons.every((reason) => /^[\w.[\]()-]+: ./.test(reason) || reason.startsWith('the engine refused'))).toBe(true);
      }
    }, 180_000);
  });
});
