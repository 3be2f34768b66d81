// `npm run bench:latest [BENCH...]`: the figures of each bench's latest run in
// bench/results.jsonl, with when, at which commit and on which machine they
// were measured (what the README quotes).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../config/env.js';
import { type Figure, type Provenance, RESULTS_FILE } from './figures.js';

type Recorded = Figure & Omit<Provenance, 'loadAverage'> & { date: string; loadAverage?: number };

const PROVENANCE_KEYS = new Set(['value', 'loadAverage']);

function latestRuns(lines: Recorded[], benches: string[]): Map<string, Recorded[]> {
  const latest = new Map<string, Recorded[]>();
  for (const line of lines) {
    if (benches.length > 0 && !benches.includes(line.bench)) continue;
    const current = latest.get(line.bench);
    if (!current || current[0]!.run < line.run) latest.set(line.bench, [line]);
    else if (current[0]!.run === line.run) current.push(line);
  }
  return latest;
}

// Piped into head or less: stop quietly when the reader has seen enough.
process.stdout.on('error', (error: NodeJS.ErrnoException) => process.exit(error.code === 'EPIPE' ? 0 : 1));

if (!existsSync(RESULTS_FILE)) {
  console.error(`no figures yet: ${path.relative(PROJECT_ROOT, RESULTS_FILE)} is written by the benches`);
  process.exit(1);
}
const lines = readFileSync(RESULTS_FILE, 'utf8')
  .split('\n')
  .filter((line) => line.trim())
  .map((line) => JSON.parse(line) as Recorded);
for (const [bench, figures] of latestRuns(lines, process.argv.slice(2))) {
  const { run, commit, dirty, machine, loadAverage } = figures[0]!;
  const load = loadAverage === undefined ? '' : `, load average ${loadAverage} at start`;
  console.log(
    `${bench}: run of ${run}, commit ${commit}${dirty ? ' (with changes)' : ''}, ${machine.host}: ${machine.cpus} × ${machine.cpu}, ${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node}${load}`,
  );
  for (const figure of figures) {
    // Numbers that qualify a figure (its spread, its latency) are shown with it.
    const details = Object.entries(figure).filter(([key, value]) => typeof value === 'number' && !PROVENANCE_KEYS.has(key));
    console.log(`  ${figure.metric} = ${figure.value} ${figure.unit}${details.length ? ` (${details.map(([key, value]) => `${key} ${String(value)}`).join(', ')})` : ''}`);
  }
}
