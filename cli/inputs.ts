import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { CompiledRunbook } from '../manifest/types.js';
import { JarvisProblem } from '../manifest/errors.js';

/**
 * Turns `--input key=value` pairs into typed inputs: a value is kept as text
 * when the runbook declares the input as a string, and parsed as JSON otherwise
 * (numbers, booleans, arrays, objects).
 */
export function parseInputPairs(pairs: string[], runbook: CompiledRunbook): Record<string, unknown> {
  const properties = (runbook.inputs.properties ?? {}) as Record<string, { type?: unknown }>;
  const inputs: Record<string, unknown> = {};
  for (const pair of pairs) {
    const separator = pair.indexOf('=');
    if (separator <= 0) throw new JarvisProblem(`--input "${pair}" must look like key=value`, 'invalid');
    const key = pair.slice(0, separator);
    const text = pair.slice(separator + 1);
    const declared = properties[key]?.type;
    if (declared === 'string') {
      inputs[key] = text;
      continue;
    }
    try {
      inputs[key] = JSON.parse(text);
    } catch {
      inputs[key] = text;
    }
  }
  return inputs;
}

export function readInputsFile(file: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new JarvisProblem(`cannot read inputs file ${file}: ${(error as Error).message}`, 'invalid');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new JarvisProblem(`inputs file ${file} must hold a mapping of input names to values`, 'invalid');
  }
  return value as Record<string, unknown>;
}
