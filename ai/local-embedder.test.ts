import { describe, expect, it } from 'vitest';
import { LocalEmbedder, lexicalTokens } from './local-embedder.js';
import { chunkLines, chunkText } from './text-chunks.js';

const dot = (a: number[], b: number[]) => a.reduce((total, value, index) => total + value * b[index]!, 0);

describe('the local embedder', () => {
  const embedder = new LocalEmbedder();

  it('makes deterministic 384-dimension unit vectors, even for a text without words', async () => {
    const [first, again, empty] = await embedder.embed(['No space left on device', 'No space left on device', '   ...   ']);
    expect(first).toHaveLength(384);
    expect(Math.hypot(...first!)).toBeCloseTo(1, 10);
    expect(again).toEqual(first);
    expect(Math.hypot(...empty!)).toBeCloseTo(1, 10);
  });

  it('ranks a text sharing the words of a query above an unrelated one', async () => {
    const [query, related, unrelated] = await embedder.embed([
      'docker: write /var/lib/docker/tmp: no space left on device',
      'Incident: deploy failed because the disk /var/lib/docker was full (no space left on device); pruned images',
      'TLS certificate for api.example.org expired; renewed it with certbot and reloaded nginx',
    ]);
    const relatedSimilarity = dot(query!, related!);
    const unrelatedSimilarity = dot(query!, unrelated!);
    expect(relatedSimilarity).toBeGreaterThan(0.3);
    expect(relatedSimilarity).toBeGreaterThan(unrelatedSimilarity + 0.2);
  });

  it('finds inflected words through shared character trigrams', async () => {
    const [query, inflected, other] = await embedder.embed(['container restarting', 'the container was restarted twice', 'the volume was mounted twice']);
    expect(dot(query!, inflected!)).toBeGreaterThan(dot(query!, other!));
  });

  it('keeps paths, versions and host names as single tokens and drops stop words', () => {
    expect(lexicalTokens('The upgrade of nginx to 1.25.3 on web-1.example.org failed at /etc/nginx/nginx.conf')).toEqual([
      'upgrade',
      'nginx',
      '1.25.3',
      'web-1.example.org',
      'failed',
      'etc/nginx/nginx.conf',
    ]);
  });
});

describe('chunking', () => {
  it('keeps a short text whole, with its line numbers', () => {
    expect(chunkText('step deploy failed\nexit code 137')).toEqual([{ ordinal: 0, text: 'step deploy failed\nexit code 137', firstLine: 1, lastLine: 2 }]);
  });

  it('cuts at a paragraph break rather than in the middle of a paragraph', () => {
    const paragraph = (word: string) => Array.from({ length: 6 }, () => `${word} `.repeat(10).trim()).join('\n');
    const chunks = chunkText([paragraph('alpha'), paragraph('beta'), paragraph('gamma')].join('\n\n'), { maxChars: 800 });
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks[0]!.text).toBe(paragraph('alpha') + '\n\n' + paragraph('beta'));
    expect(chunks[0]).toMatchObject({ firstLine: 1, lastLine: 13 });
    expect(chunks[1]).toMatchObject({ text: paragraph('gamma'), firstLine: 15, lastLine: 20 });
  });

  it('cuts long logs at line breaks under the size limit, repeating the last lines of a chunk in the next', () => {
    const lines = Array.from({ length: 100 }, (_, index) => ({ number: 1_001 + index, text: `2026-11-24T03:12:${String(index % 60).padStart(2, '0')}Z worker[${index}] pulling layer ${index}` }));
    const chunks = chunkLines(lines, { maxChars: 800, overlapChars: 100 });
    expect(chunks.length).toBeGreaterThan(4);
    for (const chunk of chunks) {
      expect(chunk.text.length).toBeLessThanOrEqual(800);
      expect(chunk.text.split('\n')).toEqual(lines.filter((line) => line.number >= chunk.firstLine && line.number <= chunk.lastLine).map((line) => line.text));
    }
    expect(chunks[0]!.firstLine).toBe(1_001);
    expect(chunks.at(-1)!.lastLine).toBe(1_100);
    for (let index = 1; index < chunks.length; index += 1) {
      // Overlapping (the next chunk starts before the previous ended), and always moving forward.
      expect(chunks[index]!.firstLine).toBeLessThanOrEqual(chunks[index - 1]!.lastLine);
      expect(chunks[index]!.lastLine).toBeGreaterThan(chunks[index - 1]!.lastLine);
    }
  });

  it('splits a single line longer than a chunk', () => {
    const chunks = chunkLines([{ number: 7, text: 'x'.repeat(2_000) }], { maxChars: 800 });
    expect(chunks.map((chunk) => [chunk.text.length, chunk.firstLine, chunk.lastLine])).toEqual([
      [800, 7, 7],
      [800, 7, 7],
      [400, 7, 7],
    ]);
  });
});
