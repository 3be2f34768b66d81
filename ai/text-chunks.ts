// Splits documents into chunks small enough to embed and to quote: about
// 800 characters, cut at paragraph breaks when one is near, otherwise at line
// breaks, never inside a line unless the line alone is too long. When a chunk
// is cut mid-paragraph, the next one repeats its last lines (up to ~100
// characters) so a sentence or a stack trace split across the cut is still
// found whole in one of them. Each chunk keeps the numbers of the lines it
// holds, so a diagnosis can cite log lines by number.

export interface SourceLine {
  /** The line's number in its source (a run log's sequence number, or 1-based in a text). */
  number: number;
  text: string;
}

export interface TextChunk {
  ordinal: number;
  text: string;
  firstLine: number;
  lastLine: number;
}

export interface ChunkOptions {
  maxChars?: number;
  overlapChars?: number;
}

const DEFAULT_MAX_CHARS = 800;
const DEFAULT_OVERLAP_CHARS = 100;
/** A blank line ends the chunk once it is at least this full, rather than filling it to the brim. */
const PARAGRAPH_BREAK_FILL = 0.5;

/** Chunks a text; line numbers count from 1. */
export function chunkText(text: string, options: ChunkOptions = {}): TextChunk[] {
  return chunkLines(
    text.split(/\r?\n/).map((line, index) => ({ number: index + 1, text: line })),
    options,
  );
}

/** Chunks numbered lines (e.g. a run's log lines), keeping their numbers. */
export function chunkLines(lines: SourceLine[], options: ChunkOptions = {}): TextChunk[] {
  const maxChars = options.maxChars ?? DEFAULT_MAX_CHARS;
  const overlapChars = Math.min(options.overlapChars ?? DEFAULT_OVERLAP_CHARS, Math.floor(maxChars / 2));
  const chunks: TextChunk[] = [];
  let current: SourceLine[] = [];
  let currentLength = 0;

  const lengthOf = (group: SourceLine[]) => group.reduce((total, line) => total + line.text.length + 1, 0);
  const close = () => {
    while (current.length > 0 && current[current.length - 1]!.text.trim() === '') current.pop();
    if (current.length > 0) {
      chunks.push({ ordinal: chunks.length, text: current.map((line) => line.text).join('\n'), firstLine: current[0]!.number, lastLine: current[current.length - 1]!.number });
    }
    current = [];
    currentLength = 0;
  };
  const trailingOverlap = (group: SourceLine[]): SourceLine[] => {
    const kept: SourceLine[] = [];
    let length = 0;
    for (let index = group.length - 1; index > 0; index -= 1) {
      const line = group[index]!;
      if (length + line.text.length + 1 > overlapChars) break;
      kept.unshift(line);
      length += line.text.length + 1;
    }
    return kept;
  };

  for (const line of splitLongLines(lines, maxChars)) {
    const blank = line.text.trim() === '';
    if (blank) {
      if (currentLength >= maxChars * PARAGRAPH_BREAK_FILL) {
        close();
      } else if (current.length > 0) {
        current.push(line);
        currentLength += 1;
      }
      continue;
    }
    if (currentLength + line.text.length + 1 > maxChars && current.length > 0) {
      const overlap = trailingOverlap(current);
      close();
      if (lengthOf(overlap) + line.text.length + 1 <= maxChars) {
        current = overlap;
        currentLength = lengthOf(overlap);
      }
    }
    current.push(line);
    currentLength += line.text.length + 1;
  }
  close();
  return chunks;
}

function* splitLongLines(lines: SourceLine[], maxChars: number): Generator<SourceLine> {
  for (const line of lines) {
    if (line.text.length <= maxChars) {
      yield line;
      continue;
    }
    for (let start = 0; start < line.text.length; start += maxChars) yield { number: line.number, text: line.text.slice(start, start + maxChars) };
  }
}
