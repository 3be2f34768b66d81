// The offline embedder, used when no embedding model is configured.
//
// It is LEXICAL, NOT SEMANTIC: a text's vector counts the words, word pairs
// and character trigrams it contains, hashed into 384 buckets ("feature
// hashing"). Two texts are close when they share vocabulary: "disk full on
// /var" finds "No space left on device: /var/lib/docker" through "/var" and
// the trigrams of shared words, but it would not find "storage exhausted".
// Good enough to match a failure to past failures with the same error text,
// which is what operations logs mostly repeat; a real embedding model does
// better and is used whenever one is configured.
//
// Per text: features are unigrams (weight 1), bigrams of neighbouring words
// (0.5, for phrases like "connection refused") and character trigrams of
// each word with boundary marks (0.25, so "restarting" meets "restarted").
// Term frequency is damped (1 + ln tf) so a line repeated 500 times does not
// drown the rest. Each feature adds +/- its weight to one bucket, the sign
// coming from another bit of the same hash so collisions cancel out on
// average instead of piling up. The vector is then scaled to length 1,
// which makes cosine similarity a plain dot product.
import type { Embedder } from './embedder.js';

const DIMENSIONS = 384;
const UNIGRAM_WEIGHT = 1;
const BIGRAM_WEIGHT = 0.5;
const TRIGRAM_WEIGHT = 0.25;

// Words too common to say anything about a failure.
const STOP_WORDS = new Set(
  'a an and are as at be but by for from has have in into is it its of on or that the this to was were will with'.split(' '),
);

/** 32-bit FNV-1a: stable across processes and versions, which the stored vectors rely on. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Lower-case words: letters and digits, keeping inner dots, dashes, underscores and slashes (paths, versions, hostnames). */
export function lexicalTokens(text: string): string[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+(?:[./_-][\p{L}\p{N}]+)*/gu) ?? [];
  return words.filter((word) => !STOP_WORDS.has(word));
}

function countFeatures(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (feature: string) => counts.set(feature, (counts.get(feature) ?? 0) + 1);
  const words = lexicalTokens(text);
  words.forEach((word, index) => {
    add(`w:${word}`);
    const next = words[index + 1];
    if (next) add(`b:${word} ${next}`);
    const marked = `^${word}$`;
    for (let start = 0; start + 3 <= marked.length; start += 1) add(`t:${marked.slice(start, start + 3)}`);
  });
  return counts;
}

/** The name the offline embedder's vectors are stored under. */
export const LOCAL_EMBEDDING_MODEL = 'jarvis-local-lexical-v1';

export class LocalEmbedder implements Embedder {
  readonly dimensions = DIMENSIONS;
  /** Stored with each vector; changing the features above needs a new name (and re-embedding). */
  readonly model = LOCAL_EMBEDDING_MODEL;

  embed(texts: string[]): Promise<number[][]> {
    return Promise.resolve(texts.map((text) => this.embedOne(text)));
  }

  embedOne(text: string): number[] {
    const vector = new Array<number>(DIMENSIONS).fill(0);
    for (const [feature, count] of countFeatures(text)) {
      const hash = fnv1a(feature);
      const sign = hash & 0x80000000 ? -1 : 1;
      vector[hash % DIMENSIONS]! += sign * weightOf(feature) * (1 + Math.log(count));
    }
    const length = Math.hypot(...vector);
    // A text without any word (empty, only punctuation) still gets a unit vector: a zero vector has no cosine.
    if (length === 0) {
      vector[0] = 1;
      return vector;
    }
    return vector.map((value) => value / length);
  }
}

function weightOf(feature: string): number {
  if (feature.startsWith('w:')) return UNIGRAM_WEIGHT;
  if (feature.startsWith('b:')) return BIGRAM_WEIGHT;
  return TRIGRAM_WEIGHT;
}
