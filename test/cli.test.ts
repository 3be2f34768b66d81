import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { scratchDir, startWorker, uniqueTaskQueue, writeManifests } from './harness.js';
import { runCli, type ProcessEnv } from './processes.js';
import { waitFor } from './wait.js';

const work = scratchDir();
const flag = path.join(work, 'flag');
const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : []);

const resumable = `
name: resumable
title: Fails until a flag file exists
inputs: { type: object, properties: { log: { type: string }, flag: { type: string } }, required: [log, flag] }
steps:
  - id: one
    action: shell.run
    with: { command: 'echo one >> "$1"', shell: true, args: ["\${{ inputs.log }}"] }
  - id: two
    action: shell.run
    with: { command: 'test -f "$2" || { echo "flag $2 is missing" >&2; exit 1; }; echo two >> "$1"', shell: true, args: ["\${{ inputs.log }}", "\${{ inputs.flag }}"] }
  - id: three
    action: shell.run
    with: { command: 'echo three >> "$1"', shell: true, args: ["\${{ inputs.log }}"] }
`;

const gate = `
name: gate
title: Needs an approval
environments: [prod]
steps:
  - id: ok
    approval: { role: approver }
  - id: after
    action: core.noop
`;

let env: ProcessEnv;
let worker: Awaited<ReturnType<typeof startWorker>>;

beforeAll(async () => {
  const taskQueue = uniqueTaskQueue('cli');
  env = { TEMPORAL_ADDRESS: inject('temporalAddress'), JARVIS_TASK_QUEUE: taskQueue, JARVIS_RUNBOOKS_DIR: writeManifests({ resumable, gate }), JARVIS_USER: 'alice' };
  worker = await startWorker(taskQueue);
});

afterAll(async () => worker?.stop());

function runIdFrom(stdout: string): string {
  const match = /run (\S+)/.exec(stdout);
  if (!match?.[1]) throw new Error(`no run id in: ${stdout}`);
  return match[1];
}

describe('the jarvis CLI', () => {
  it('resumes a failed run from its failed step without re-executing completed steps, and re-runs it linked to the original', async () => {
    const log = path.join(work, 'resume.log');
    const started = await runCli(['run', 'start', 'resumable', '--input', `log=${log}`, '--input', `flag=${flag}`, '--watch'], env);
    expect(started.code).toBe(1);
    expect(started.stdout).toMatch(/✘ two \(shell.run\) failed.*flag .* is missing/);
    const id = runIdFrom(started.stdout);
    expect(lines(log)).toEqual(['one']);

    writeFileSync(flag, 'fixed');
    const resumed = await runCli(['run', 'resume', id, '--watch'], env);
    expect(resumed.stdout).toContain('Resuming from step two');
    expect(resumed.code).toBe(0);
    expect(lines(log)).toEqual(['one', 'two', 'three']);

    const rerun = await runCli(['run', 'rerun', id, '--watch'], env);
    expect(rerun.code).toBe(0);
    expect(lines(log)).toEqual(['one', 'two', 'three', 'one', 'two', 'three']);
    const newId = /as run (\S+)/.exec(rerun.stdout)?.[1];
    const shown = await runCli(['run', 'show', newId!, '--output', 'json'], env);
    expect(JSON.parse(shown.stdout)).toMatchObject({ rerunOf: id, status: 'COMPLETED', progress: { status: 'succeeded', rerunOf: id } });

    const listed = await runCli(['run', 'list', '--runbook', 'resumable', '--output', 'yaml'], env);
    expect((parse(listed.stdout) as Array<{ id: string }>).map((run) => run.id)).toEqual(expect.arrayContaining([id, newId]));
  });

  it('approves as another user, refuses the starter, and fails on bad input with a message', async () => {
    const started = await runCli(['run', 'start', 'gate', '--env', 'prod'], env);
    expect(started.code).toBe(0);
    const id = runIdFrom(started.stdout);
    await waitFor(async () => JSON.parse((await runCli(['run', 'show', id, '-o', 'json'], env)).stdout).progress?.steps[0]?.status === 'waiting', {
      message: `run ${id} to wait at step ok`,
    });
    const own = await runCli(['run', 'approve', id, 'ok'], env);
    expect(own.code).toBe(5);
    expect(own.stderr).toContain('alice started this run and cannot approve it');
    const approved = await runCli(['run', 'approve', id, 'ok', '--as', 'bob', '--comment', 'fine'], env);
    expect(approved.stdout).toContain(`Step ok of run ${id} approved`);

    const wrongEnv = await runCli(['run', 'start', 'gate', '--env', 'dev'], env);
    expect(wrongEnv.code).toBe(2);
    expect(wrongEnv.stderr).toContain('cannot run in "dev"; it allows prod');
    const missing = await runCli(['run', 'start', 'resumable'], env);
    expect(missing.stderr).toMatch(/inputs.log: required\ninputs.flag: required/);
  });

  it('creates users with a password from standard input and grants them roles per environment', async () => {
    const userEnv = { JARVIS_DATA_DIR: scratchDir() };
    const short = await runCli(['users', 'create', 'ops@example.org'], userEnv, 'short\n');
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('at least 12 characters');
    const created = await runCli(['users', 'create', 'ops@example.org', '--admin-in', 'dev'], userEnv, 'a long enough password\n');
    expect(created.stdout).toContain('Created user ops@example.org');
    await runCli(['users', 'grant', 'ops@example.org', 'approver', '--env', 'prod'], userEnv);
    const listed = JSON.parse((await runCli(['users', 'list', '-o', 'json'], userEnv)).stdout);
    expect(listed).toEqual([{ email: 'ops@example.org', name: 'ops', disabled: false, grants: expect.arrayContaining(['dev:admin', 'prod:approver']) }]);
  });

  it('validates a manifest file and lists every mistake with its path', async () => {
    const file = path.join(work, 'broken.yaml');
    writeFileSync(file, 'name: broken\ntitle: Broken\nsteps:\n  - id: a\n    action: shell.nope\n  - id: a\n    sleep: soon\n');
    const result = await runCli(['runbooks', 'validate', file], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('steps[0].action: unknown action "shell.nope"');
    expect(result.stderr).toContain('steps[1].id: duplicate step id "a" (already used at steps[0])');
    expect(result.stderr).toContain('steps[1].sleep: "soon" is not a duration');
  });
});
