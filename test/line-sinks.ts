import type { LineSink, OutputLine, StepContext } from '../activities/action.js';

export interface CollectedLine extends OutputLine {
  step: StepContext;
  attempt: number;
}

/** Keeps every output line in memory, for tests to read. */
export function collectingLineSink(): LineSink & { lines: CollectedLine[] } {
  const lines: CollectedLine[] = [];
  return { lines, write: (step, attempt, line) => lines.push({ ...line, step, attempt }), flush: async () => {} };
}
