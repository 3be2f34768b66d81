// Starts one real Temporal dev server for the whole suite and bundles the
// workflow code once; test files start their own workers on their own task queues.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { loadEnv, PROJECT_ROOT } from '../config/env.js';
import { findTemporalBinary, startDevServer } from '../temporal/dev-server.js';
import { bundleWorkflows } from '../temporal/worker.js';
import { freePort } from '../config/free-port.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    workflowBundlePath: string;
    temporalBinary: string;
  }
}

export default async function setup(project: TestProject) {
  const env = loadEnv();
  const binary = findTemporalBinary(env.searchPath, env.cacheBinDir);
  if (!binary) {
    throw new Error(`no temporal binary on PATH or in ${env.cacheBinDir}: run .ci/run (or "npm start" once) to build it`);
  }
  const testDir = path.join(PROJECT_ROOT, '.data', 'test');
  mkdirSync(testDir, { recursive: true });
  const [server, bundle] = await Promise.all([
    startDevServer({ binary, port: await freePort(), logFile: path.join(testDir, 'temporal.log') }),
    bundleWorkflows(),
  ]);
  const workflowBundlePath = path.join(testDir, 'workflow-bundle.js');
  writeFileSync(workflowBundlePath, bundle.code);
  project.provide('temporalAddress', server.address);
  project.provide('workflowBundlePath', workflowBundlePath);
  project.provide('temporalBinary', binary);
  return async () => server.stop();
}
