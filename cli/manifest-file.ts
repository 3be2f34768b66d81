import { readFileSync } from 'node:fs';
import type { RunbookCatalog } from '../manifest/catalog.js';
import { parseYaml, type CompiledManifest, type LoadResult } from '../manifest/loader.js';
import { JarvisProblem } from '../manifest/errors.js';

/** Compiles a manifest file against the catalog's actions; every mistake is listed with its path. */
export function compileFile(catalog: RunbookCatalog, file: string): CompiledManifest {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new JarvisProblem(`cannot read ${file}: ${(error as Error).message}`, 'not-found');
  }
  const parsed = parseYaml(text);
  const result: LoadResult = parsed.errors.length > 0 ? { ok: false, errors: parsed.errors } : catalog.compileValue(parsed.value);
  if (!result.ok) throw new JarvisProblem(`${file} is invalid:`, 'invalid', result.errors);
  return result.compiled;
}
