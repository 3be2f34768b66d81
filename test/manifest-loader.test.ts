import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../config/env.js';
import { actionCatalog } from '../activities/catalog.js';
import { manifestJsonSchema } from '../manifest/json-schema-document.js';
import { loadManifestText, type LoadOptions, type LoadResult } from '../manifest/loader.js';

const header = `
name: broken
title: Broken on purpose
inputs: { type: object, properties: { host: { type: string } } }
`;

function errorsOf(result: LoadResult): string[] {
  expect(result.ok).toBe(false);
  return result.ok ? [] : result.errors.map((error) => `${error.path}: ${error.message}`);
}

function load(steps: string, options?: LoadOptions): string[] {
  return errorsOf(loadManifestText(`${header}steps:\n${steps}`, actionCatalog, options));
}

describe('the manifest loader', () => {
  it('compiles a valid manifest with defaults from the action catalog and a content version', () => {
    const result = loadManifestText(`${header}steps:\n  - id: hi\n    action: core.noop\n`, actionCatalog);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.compiled.runbook.steps[0]).toMatchObject({ kind: 'action', action: 'core.noop', timeoutMs: 30_000, retry: { maxAttempts: 3 } });
    expect(result.compiled.runbook.version).toMatch(/^[0-9a-f]{12}$/);
  });

  it('refuses an inputs schema with a keyword JSON Schema does not know, so `secret: true` cannot silently mean nothing', () => {
    const manifest = (token: string) => `name: secretive\ntitle: Secretive\ninputs: { type: object, properties: { token: ${token} } }\nsteps:\n  - id: hi\n    action: core.noop\n`;
    expect(errorsOf(loadManifestText(manifest('{ type: string, secret: true }'), actionCatalog))).toEqual(['inputs: not a valid JSON Schema: strict mode: unknown keyword: "secret" (at inputs.properties.token.secret)']);
    expect(loadManifestText(manifest('{ type: string, x-secret: true }'), actionCatalog).ok).toBe(true);
    expect(loadManifestText(manifest('{ type: string, format: password }'), actionCatalog).ok).toBe(true);
  });

  it('reports an unknown action with the actions that exist', () => {
    expect(load('  - id: a\n    action: docker.explode\n')).toEqual([expect.stringMatching(/^steps\[0\]\.action: unknown action "docker.explode" \(known: core.noop, shell.run/)]);
  });

  it('reports a missing required argument with its path', () => {
    expect(load('  - id: a\n    action: http.check\n    with: {}\n')).toEqual(['steps[0].with.url: required']);
  });

  it('reports arguments of the wrong type and unknown arguments', () => {
    expect(load('  - id: a\n    action: shell.run\n    with: { command: ls, shell: "yes", colour: red }\n')).toEqual([
      'steps[0].with.shell: Invalid input: expected boolean, received string',
      'steps[0].with.colour: unknown argument for shell.run (known: command, args, shell, env, cwd, timeout, expectExitCodes, artifacts)',
    ]);
  });

  it('reports templates that refer to an unknown input, a later step or a missing step', () => {
    expect(
      load(`  - id: a
    action: core.noop
    with: { message: "\${{ inputs.hostname }} \${{ steps.b.output.message }} \${{ steps.ghost.output.x }}" }
  - id: b
    action: core.noop
`),
    ).toEqual([
      'steps[0].with.message: unknown input "hostname" (declare it under inputs.properties)',
      'steps[0].with.message: step "b" has not run yet at this point (it runs later or in the same parallel group)',
      'steps[0].with.message: unknown step "ghost"',
    ]);
  });

  it('reports duplicate step ids, including inside parallel groups', () => {
    expect(load('  - id: a\n    action: core.noop\n  - id: group\n    parallel:\n      - id: a\n        action: core.noop\n')).toEqual([
      'steps[1].parallel[0].id: duplicate step id "a" (already used at steps[0])',
    ]);
  });

  it('reports a runbook step that would recurse', () => {
    const lookupRunbook = (name: string) =>
      name === 'child' ? parse('name: child\ntitle: Child\nsteps:\n  - id: back\n    runbook: broken\n') : undefined;
    expect(load('  - id: a\n    runbook: child\n', { lookupRunbook })).toEqual([
      'steps[0].runbook: runbook "child" is invalid: steps[0].runbook: runbook "broken" would start itself again (broken → child → broken)',
    ]);
    expect(load('  - id: a\n    runbook: broken\n')).toEqual(['steps[0].runbook: runbook "broken" would start itself again (broken → broken)']);
  });

  it('reports bad durations', () => {
    expect(load('  - id: a\n    action: core.noop\n    timeout: 5 minutes\n  - id: b\n    sleep: 10x\n')).toEqual([
      'steps[0].timeout: "5 minutes" is not a duration: use 500ms, 30s, 5m, 2h or 1h30m',
      'steps[1].sleep: "10x" is not a duration: use 500ms, 30s, 5m, 2h or 1h30m',
    ]);
  });

  it('reports an approval without approvers', () => {
    expect(load('  - id: gate\n    approval: { approvals: 0 }\n')).toEqual(['steps[0].approval.role: required', 'steps[0].approval.approvals: at least one approval is needed']);
  });

  it('reports a step that is nothing, or two things at once', () => {
    expect(load('  - id: a\n  - id: b\n    action: core.noop\n    sleep: 1s\n')).toEqual([
      'steps[0]: a step needs one of: action, approval, sleep, runbook, parallel',
      'steps[1]: a step is one of action, approval, sleep, runbook or parallel, not action and sleep',
    ]);
  });

  it('reports a bad condition, a bad input schema and unknown top-level fields together', () => {
    const errors = errorsOf(
      loadManifestText(`name: Bad Name
title: x
inputs: { type: array }
owner: me
steps:
  - id: a
    action: core.noop
    when: "\${{ inputs.host == }}"
`, actionCatalog),
    );
    expect(errors).toEqual([
      'name: lowercase letters, digits and "-" only',
      '(root): unknown field "owner"',
      'inputs.type: the inputs schema must be "type: object"',
      'steps[0].when: bad expression "inputs.host ==": unexpected end of expression at column 15',
    ]);
  });

  it('reports YAML syntax errors with their line', () => {
    expect(errorsOf(loadManifestText('name: x\nsteps: [\n', actionCatalog))[0]).toMatch(/^\(yaml\): .*line \d+/);
  });

  it('publishes a JSON Schema of the format that matches the committed file', () => {
    const committed = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'runbooks', 'runbook.schema.json'), 'utf8'));
    expect(committed).toEqual(manifestJsonSchema());
    expect(Object.keys(committed.properties)).toEqual(expect.arrayContaining(['name', 'inputs', 'concurrencyKey', 'steps']));
  });
});

describe('the README', () => {
  it('shows a manifest example that the loader accepts', () => {
    const readme = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
    const example = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    const result = loadManifestText(example ?? '', actionCatalog);
    expect(result.ok ? [] : result.errors).toEqual([]);
  });
});
