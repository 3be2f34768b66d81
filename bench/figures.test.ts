import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendingEnabled, describeCommit, FigureLog, sizeFromEnv } from './figures.js';

let repo: string;
const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=bench@example.org', '-c', 'user.name=Bench', ...args], { cwd: repo, encoding: 'utf8' }).trim();

beforeEach(() => {
  repo = mkdtempSync(path.join(os.tmpdir(), 'bench-figures-'));
  git('init', '-q');
  writeFileSync(path.join(repo, 'code.ts'), 'export {};\n');
  writeFileSync(path.join(repo, 'results.jsonl'), '');
  git('add', '-A');
  git('commit', '-q', '-m', 'first');
});

afterEach(() => rmSync(repo, { recursive: true, force: true }));

describe('bench figures', () => {
  it('prints a figure and appends it with its date, the commit the bench started on and the machine', () => {
    const printed: string[] = [];
    const file = path.join(repo, 'results.jsonl');
    const log = new FigureLog({ file, append: true, cwd: repo, out: (line) => printed.push(line) });
    // An edit made while the bench runs is not what it measured.
    writeFileSync(path.join(repo, 'code.ts'), 'export const later = 1;\n');
    log.emit('rag', 'search_p99', 6.12345, 'ms', { kind: 'stored' });
    log.emit('rag', 'search_recall_at_5', 0.9987, 'ratio');

    expect(printed.map((line) => JSON.parse(line))).toEqual([
      { bench: 'rag', metric: 'search_p99', value: 6.123, unit: 'ms', kind: 'stored' },
      { bench: 'rag', metric: 'search_recall_at_5', value: 0.999, unit: 'ratio' },
    ]);
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ bench: 'rag', metric: 'search_p99', value: 6.123, unit: 'ms', kind: 'stored', commit: git('rev-parse', '--short', 'HEAD') });
    expect(lines[0]).not.toHaveProperty('dirty');
    expect(new Date(lines[0]!.date as string).getTime()).not.toBeNaN();
    expect(lines[0]!.machine).toMatchObject({ host: os.hostname(), cpus: os.cpus().length, node: process.version });
    expect(lines[0]!.loadAverage).toEqual(expect.any(Number));
    expect(lines[1]!.run).toBe(lines[0]!.run);
  });

  it('marks figures measured on a tree with changes as dirty, but not for the results appended so far', () => {
    writeFileSync(path.join(repo, 'results.jsonl'), '{"earlier":true}\n');
    expect(describeCommit(repo, path.join(repo, 'results.jsonl')).dirty).toBe(false);

    writeFileSync(path.join(repo, 'code.ts'), 'export const changed = 1;\n');
    const file = path.join(repo, 'results.jsonl');
    new FigureLog({ file, append: true, cwd: repo, out: () => {} }).emit('logs', 'lines_missing', 0, 'lines');
    expect(JSON.parse(readFileSync(file, 'utf8').trim().split('\n')[1]!)).toMatchObject({ metric: 'lines_missing', dirty: true });
  });

  it('only prints when appending is off', () => {
    const file = path.join(repo, 'results.jsonl');
    const printed: string[] = [];
    new FigureLog({ file, append: false, cwd: repo, out: (line) => printed.push(line) }).emit('infra', 'jarvis_overhead_p50', 120, 'ms');
    expect(printed).toHaveLength(1);
    expect(readFileSync(file, 'utf8')).toBe('');
  });

  it('reads BENCH_RESULTS=0 as print only and refuses anything unclear', () => {
    expect(appendingEnabled(undefined)).toBe(true);
    expect(appendingEnabled('1')).toBe(true);
    expect(appendingEnabled('0')).toBe(false);
    expect(() => appendingEnabled('no')).toThrow(/BENCH_RESULTS must be 0/);
  });

  it('refuses a size that is not a positive whole number', () => {
    process.env.BENCH_TEST_SIZE = '2_000';
    expect(sizeFromEnv('BENCH_TEST_SIZE', 5)).toBe(2_000);
    process.env.BENCH_TEST_SIZE = '0';
    expect(() => sizeFromEnv('BENCH_TEST_SIZE', 5)).toThrow(/BENCH_TEST_SIZE must be a positive whole number/);
    delete process.env.BENCH_TEST_SIZE;
    expect(sizeFromEnv('BENCH_TEST_SIZE', 5)).toBe(5);
  });
});
