// The CLI's API session: an API token made by `jarvis login`, kept in the data
// directory with owner-only permissions (or JARVIS_API_URL + JARVIS_API_TOKEN).
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { JarvisEnv } from '../config/env.js';

export interface CliSession {
  apiUrl: string;
  token: string;
  email?: string;
}

const sessionFile = (env: Pick<JarvisEnv, 'dataDir'>) => path.join(env.dataDir, 'cli-session.json');

export function readSession(env: Pick<JarvisEnv, 'dataDir' | 'apiUrl' | 'apiToken'>): CliSession | undefined {
  if (env.apiToken) return { apiUrl: env.apiUrl, token: env.apiToken };
  const file = sessionFile(env);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as CliSession) : undefined;
}

export function saveSession(env: Pick<JarvisEnv, 'dataDir'>, session: CliSession): string {
  const file = sessionFile(env);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(session, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

export function removeSession(env: Pick<JarvisEnv, 'dataDir'>): boolean {
  const file = sessionFile(env);
  if (!existsSync(file)) return false;
  rmSync(file);
  return true;
}
