import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A folder of manifests, as a catalog. */
export function writeManifests(manifests: Record<string, string>): string {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'jarvis-runbooks-'));
  for (const [name, text] of Object.entries(manifests)) writeFileSync(path.join(directory, `${name}.yaml`), text);
  return directory;
}

/**
 * A scratch folder for side-effect counters and flag files, writable by
 * everyone (sticky, like /tmp): action processes run as another user.
 */
export function scratchDir(): string {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'jarvis-test-'));
  chmodSync(directory, 0o1777);
  return directory;
}

/** A step that fails twice and succeeds on its third attempt, counting attempts in the file its `counter` input names. */
export const FLAKY_STEP = `
  - id: flaky
    action: shell.run
    with:
      command: 'n=$(cat "$1" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$1"; echo "attempt $n"; [ $n -ge 3 ]'
      shell: true
      args: ["\${{ inputs.counter }}"]
    retry: { maxAttempts: 5, initialInterval: 100ms, backoff: 1 }`;

/** A runbook whose first step waits for an approver, then does nothing. */
export const GATED_RUNBOOK = `
name: gated
title: Waits for an approval
steps:
  - id: gate
    approval: { role: approver }
  - id: after
    action: core.noop
`;

/** A runbook that fails at its second step until the file its input names exists: for resuming a failed run. */
export function resumableRunbook(name: string): string {
  return `
name: ${name}
title: Fails at its second step until a flag exists
inputs: { type: object, properties: { flag: { type: string } }, required: [flag] }
steps:
  - id: one
    action: core.noop
  - id: two
    action: shell.run
    with: { command: 'test -f "$1" || { echo "flag $1 is missing"; exit 1; }', shell: true, args: ["\${{ inputs.flag }}"] }
    retry: { maxAttempts: 1 }
  - id: three
    action: core.noop
`;
}
