// `jarvis run start|list|show|approve|reject|cancel|rerun|resume|hold|release|replay|artifacts|artifact`:
// through the API when there is a session, else straight on Temporal with
// `--as` naming the acting user.
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { Option, type Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { JarvisProblem } from '../../manifest/errors.js';
import { replayHistory } from '../../temporal/replay-history.js';
import type { RunDetails, RunSummary } from '../../runs/run-contract.js';
import { createDataConverter } from '../../temporal/payload-codec.js';
import { bundleWorkflows } from '../../temporal/worker.js';
import type { TargetResult, TargetStatus } from '../../manifest/fleet.js';
import type { StepProgress } from '../../workflows/messages.js';
import { loadRunbooks, type CliContext } from '../context.js';
import { registerArtifactCommands } from './artifacts.js';
import { parseInputPairs, readInputsFile } from '../inputs.js';
import { compileFile } from '../manifest-file.js';
import { collect, outputOption, parseRoles, roleOption } from '../options.js';
import { printData, renderTable, type OutputFormat } from '../output.js';
import type { Actor } from '../run-operations.js';
import { reportStarted, runOutcome } from '../watch.js';

const runColumns = [
  { header: 'id', value: (run: RunSummary) => run.id },
  { header: 'runbook', value: (run: RunSummary) => run.runbook },
  { header: 'env', value: (run: RunSummary) => run.environment },
  { header: 'status', value: (run: RunSummary) => run.status.toLowerCase() },
  { header: 'started by', value: (run: RunSummary) => run.startedBy },
  { header: 'started at', value: (run: RunSummary) => run.startedAt },
  { header: 're-run of', value: (run: RunSummary) => run.rerunOf },
];

function renderRunDetails(details: RunDetails): string {
  const progress = details.progress;
  const lines = [
    `Run        ${details.id} (execution ${details.runId})`,
    `Runbook    ${details.runbook ?? progress?.runbook ?? '?'}${progress ? ` version ${progress.version}` : ''}`,
    `Status     ${runOutcome(details)}`,
    `Env        ${details.environment ?? ''}    Started by ${details.startedBy ?? ''} at ${details.startedAt}`,
  ];
  if (details.rerunOf) lines.push(`Re-run of  ${details.rerunOf}`);
  const { hold } = details as RunDetails & { hold?: { reason: string; heldBy: string; heldAt: string } | null };
  if (hold) lines.push(`Held       by ${hold.heldBy} at ${hold.heldAt}: ${hold.reason} (no purge removes it)`);
  if (details.error) lines.push(`Error      ${details.error}`);
  if (progress) {
    lines.push('', renderTable<StepProgress>(progress.steps, [
      { header: 'step', value: (step) => (step.group ? `  ${step.id}` : step.id) },
      { header: 'kind', value: (step) => step.action ?? step.kind },
      { header: 'status', value: (step) => step.status },
      { header: 'attempts', value: (step) => step.attempts || '' },
      { header: 'started', value: (step) => step.startedAt },
      { header: 'ended', value: (step) => step.endedAt },
      { header: 'output / error', value: (step) => (step.error ?? step.outputSummary ?? '').replace(/\s+/g, ' ').slice(0, 80) },
    ]));
    for (const step of progress.steps.filter((entry) => entry.fleet)) {
      const fleet = step.fleet!;
      const counts = Object.entries(fleet.counts).filter(([, count]) => count > 0).map(([status, count]) => `${count} ${status}`);
      lines.push('', `Fleet step ${step.id}: batch ${fleet.currentBatch} of ${fleet.batches} (${fleet.batchSize} per batch), ${fleet.total} targets: ${counts.join(', ') || 'none'}; failure budget ${fleet.failureBudget}`);
      if (fleet.stopped) lines.push(`  stopped: ${fleet.stopped}`);
      lines.push(`  targets: jarvis run targets ${details.id} --step ${step.id}`);
    }
    if (progress.compensations.length > 0) {
      lines.push('', 'Compensations:', ...progress.compensations.map((entry) => `  ${entry.id} (for ${entry.forStep}): ${entry.status}${entry.error ? `: ${entry.error}` : ''}`));
    }
  }
  return lines.join('\n');
}

interface BulkOptions {
  filter?: string;
  env?: string;
  since?: string;
  limit?: number;
  dryRun?: boolean;
  output: OutputFormat;
}

interface BulkAnswer {
  id: string;
  action: string;
  dryRun: boolean;
  selected: number;
  results: Array<{ runId: string; runbook?: string; environment?: string; status: string; ok: boolean; newRunId?: string; replayed?: boolean; error?: string }>;
}

const FILTER_KEYS: Record<string, string> = { status: 'status', runbook: 'runbook', env: 'environment', environment: 'environment', startedby: 'startedBy', 'started-by': 'startedBy' };
const DURATION_UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `status=failed,runbook=deploy` as the bulk route's filter. */
export function parseRunFilter(text: string): Record<string, string> {
  const filter: Record<string, string> = {};
  for (const pair of text.split(',').filter((part) => part.trim() !== '')) {
    const [key, ...rest] = pair.split('=');
    const name = FILTER_KEYS[(key ?? '').trim().toLowerCase()];
    const value = rest.join('=').trim();
    if (!name || !value) throw new JarvisProblem(`"${pair}" is not a filter (use key=value with ${Object.keys(FILTER_KEYS).join(', ')})`, 'invalid');
    filter[name] = value;
  }
  return filter;
}

/** `24h`, `30m`, `7d` as milliseconds. */
export function parseSince(text: string): number {
  const match = /^(\d+)([mhd])$/.exec(text.trim());
  if (!match) throw new JarvisProblem(`"${text}" is not a duration (use e.g. 30m, 24h or 7d)`, 'invalid');
  return Number(match[1]) * DURATION_UNITS[match[2]!]!;
}

function bulkOptions(command: Command): Command {
  return command
    .option('--filter <filter>', 'act on every run this selects instead of one id: key=value pairs separated by commas (status, runbook, env, startedBy)')
    .option('--env <environment>', 'with --filter: only runs of this environment')
    .option('--since <duration>', 'with --filter: only runs started this long ago or later (30m, 24h, 7d)')
    .option('--limit <n>', 'with --filter: at most this many runs (default 100, at most 1000)', (value) => Number.parseInt(value, 10))
    .option('--dry-run', 'with --filter: list the runs that would be acted on, and do nothing')
    .addOption(outputOption());
}

/** A bulk action through the API; exits 1 when any run failed. */
async function runBulk(context: CliContext, action: 'cancel' | 'rerun' | 'resume', options: BulkOptions): Promise<void> {
  if (options.filter === undefined) throw new JarvisProblem(`give a run id or --filter (e.g. run ${action} --filter status=failed,runbook=deploy)`, 'invalid');
  const filter = {
    ...parseRunFilter(options.filter),
    ...(options.env ? { environment: options.env } : {}),
    ...(options.since ? { startedAfter: new Date(Date.now() - parseSince(options.since)).toISOString() } : {}),
  };
  const answer = await context.api().call<BulkAnswer>('POST', '/runs/bulk', { action, filter, ...(options.limit ? { limit: options.limit } : {}), ...(options.dryRun ? { dryRun: true } : {}) });
  printData(options.output, answer, (data) => {
    const verb = data.dryRun ? `Would ${action}` : action === 'cancel' ? 'Cancelled' : action === 'rerun' ? 'Re-ran' : 'Resumed';
    const failed = data.results.filter((result) => !result.ok).length;
    const table = renderTable(data.results, [
      { header: 'run', value: (result) => result.runId },
      { header: 'runbook', value: (result) => result.runbook },
      { header: 'env', value: (result) => result.environment },
      { header: 'was', value: (result) => result.status.toLowerCase() },
      { header: 'ok', value: (result) => (result.ok ? 'yes' : 'no') },
      { header: data.dryRun ? '' : 'new run / error', value: (result) => result.error ?? result.newRunId ?? '' },
    ]);
    return `${data.results.length === 0 ? 'No run matches the filter.' : table}\n${verb} ${data.selected - failed} of ${data.selected} runs${failed ? `; ${failed} failed` : ''} (bulk ${data.id})`;
  });
  if (answer.results.some((result) => !result.ok)) process.exitCode = 1;
}

export function registerRunCommands(program: Command, context: CliContext): void {
  const { env } = context;
  const actor = (as: string | undefined, roles: string[] = ['approver']): Actor => ({ user: as ?? env.actingUser ?? os.userInfo().username, roles: parseRoles(roles) });

  const run = program.command('run').description('start, follow, decide on and recover runs');
  run
    .command('start')
    .description('start a run of a catalog runbook (or of a manifest file)')
    .argument('<runbook>', 'a runbook name, or the path of a manifest file')
    .option('-i, --input <key=value>', 'an input (repeatable)', collect, [])
    .option('--inputs-file <file>', 'inputs from a JSON or YAML file')
    .option('-e, --env <environment>', 'the environment to run in', 'dev')
    .option('--as <user>', 'who starts the run')
    .option('-w, --watch', 'follow the run until it ends; exit non-zero unless it succeeds')
    .action(async (name: string, options: { input: string[]; inputsFile?: string; env: string; as?: string; watch?: boolean }) => {
      const runs = await context.runOperations();
      const file = /\.ya?ml$/.test(name) ? compileFile(await loadRunbooks(env), name) : undefined;
      const runbook = file?.runbook ?? (await runs.runbook(name));
      const inputs = { ...(options.inputsFile ? readInputsFile(options.inputsFile) : {}), ...parseInputPairs(options.input, runbook) };
      const started = await runs.start(file ?? name, inputs, options.env, actor(options.as));
      await reportStarted(runs, started, options.watch ?? false, 'Started');
    });

  run
    .command('list')
    .description('list runs, newest first')
    .option('--status <status>', 'running, completed, failed, cancelled, terminated or timed-out')
    .option('--runbook <name>')
    .option('--env <environment>')
    .option('--limit <n>', 'at most this many', (value) => Number.parseInt(value, 10), 50)
    .addOption(outputOption())
    .action(async (options: { status?: string; runbook?: string; env?: string; limit: number; output: OutputFormat }) => {
      const runs = await (await context.runOperations()).list({ status: options.status, runbook: options.runbook, environment: options.env, limit: options.limit });
      printData(options.output, runs, runColumns);
    });

  run
    .command('show')
    .description("show a run: status, steps with attempts, timings, outputs and errors")
    .argument('<id>')
    .addOption(outputOption())
    .action(async (id: string, options: { output: OutputFormat }) => {
      printData(options.output, await (await context.runOperations()).showRun(id), renderRunDetails);
    });

  run
    .command('approve')
    .description('approve a step that waits for approval')
    .argument('<id>')
    .argument('<step>')
    .option('-c, --comment <comment>')
    .option('--as <user>', 'who approves')
    .addOption(roleOption())
    .action(async (id: string, step: string, options: { comment?: string; as?: string; role: string[] }) => {
      const answer = await (await context.runOperations()).approve(id, step, actor(options.as, options.role), options.comment);
      console.log(answer.decision === 'approved' ? `Step ${step} of run ${id} approved` : `Approval recorded: ${answer.approvals} of ${answer.required}`);
    });

  run
    .command('reject')
    .description('reject a step that waits for approval; the run ends rejected and compensates')
    .argument('<id>')
    .argument('<step>')
    .requiredOption('-r, --reason <reason>')
    .option('--as <user>', 'who rejects')
    .addOption(roleOption())
    .action(async (id: string, step: string, options: { reason: string; as?: string; role: string[] }) => {
      await (await context.runOperations()).reject(id, step, actor(options.as, options.role), options.reason);
      console.log(`Step ${step} of run ${id} rejected`);
    });

  run
    .command('cancel')
    .description('cancel a running run (or, with --filter, every run it selects); compensations of completed steps run')
    .argument('[id]')
    .action(async (id: string | undefined, options: BulkOptions) => {
      if (!id) return runBulk(context, 'cancel', options);
      await (await context.runOperations()).cancel(id);
      console.log(`Cancellation of run ${id} requested`);
    });

  run
    .command('rerun')
    .description('start a new run with the same manifest version and inputs, linked to the original (or re-run every run --filter selects)')
    .argument('[id]')
    .option('--as <user>')
    .option('-w, --watch')
    .addOption(new Option('--targets <which>', 'fleet steps: on the failed targets only, or on the same targets as the original').choices(['failed', 'same']))
    .action(async (id: string | undefined, options: BulkOptions & { as?: string; watch?: boolean; targets?: 'failed' | 'same' }) => {
      if (!id) return runBulk(context, 'rerun', options);
      const runs = await context.runOperations();
      await reportStarted(runs, await runs.rerun(id, actor(options.as), options.targets), options.watch ?? false, `Re-ran ${id}${options.targets ? ` on its ${options.targets} targets` : ''} as`);
    });

  run
    .command('targets')
    .description("a fleet step's targets with their results: status, attempts, duration, output or error, compensation")
    .argument('<id>')
    .option('--step <step>', 'the fleet step (default: the first)')
    .addOption(new Option('--status <status>', 'only targets in this status').choices(['pending', 'running', 'succeeded', 'failed', 'skipped']))
    .addOption(outputOption())
    .action(async (id: string, options: { step?: string; status?: TargetStatus; output: OutputFormat }) => {
      const runs = await context.runOperations();
      const targets: TargetResult[] = [];
      let cursor: string | undefined;
      do {
        const page = await runs.targets(id, { ...(options.step ? { stepId: options.step } : {}), ...(options.status ? { status: options.status } : {}), limit: 1_000, ...(cursor ? { cursor } : {}) });
        targets.push(...page.targets);
        cursor = page.next;
      } while (cursor);
      printData(options.output, targets, [
        { header: 'node', value: (target) => target.node },
        { header: 'batch', value: (target) => target.batch },
        { header: 'status', value: (target) => target.status },
        { header: 'attempts', value: (target) => target.attempts || '' },
        { header: 'duration', value: (target) => (target.durationMs === undefined ? '' : `${(target.durationMs / 1000).toFixed(1)}s`) },
        { header: 'compensation', value: (target) => target.compensation?.status },
        { header: 'output / error', value: (target) => (target.error ?? target.outputSummary ?? '').replace(/\s+/g, ' ').slice(0, 80) },
      ]);
    });

  run
    .command('resume')
    .description('resume a failed run from its failed step (or every run --filter selects); completed steps are not executed again')
    .argument('[id]')
    .option('--as <user>')
    .option('-w, --watch')
    .action(async (id: string | undefined, options: BulkOptions & { as?: string; watch?: boolean }) => {
      if (!id) return runBulk(context, 'resume', options);
      const runs = await context.runOperations();
      const resumed = await runs.resume(id, actor(options.as));
      console.log(`Resuming from step ${resumed.fromStep} (new execution ${resumed.runId})`);
      await reportStarted(runs, resumed, options.watch ?? false, 'Resumed');
    });

  run
    .command('hold')
    .description("keep a run out of every retention purge: its rows, logs, artifacts and history stay (operator in its environment)")
    .argument('<id>')
    .requiredOption('-r, --reason <reason>', 'why it is kept (shown on the run)')
    .action(async (id: string, options: { reason: string }) => {
      const hold = await context.api().call<{ historyArchivedAt: string | null }>('POST', `/runs/${encodeURIComponent(id)}/hold`, { reason: options.reason });
      console.log(`Run ${id} is held${hold.historyArchivedAt ? '; its Temporal history is archived' : '; its history is archived once it ends'}`);
    });

  run
    .command('release')
    .description('release a held run: retention purges apply to it again')
    .argument('<id>')
    .action(async (id: string) => {
      await context.api().call('DELETE', `/runs/${encodeURIComponent(id)}/hold`);
      console.log(`Run ${id} is no longer held`);
    });

  for (const command of run.commands.filter((candidate) => ['cancel', 'rerun', 'resume'].includes(candidate.name()))) bulkOptions(command);

  registerArtifactCommands(run, context);

  run
    .command('replay')
    .description("replay a run's history against the current workflow code")
    .argument('[id]', 'a run id (or use --history-file)')
    .option('--history-file <file>', 'replay a saved history instead of fetching one')
    .option('--workflow-id <id>', 'the workflow id the saved history was recorded under (child run ids derive from it)')
    .option('--save <file>', 'also save the fetched history as JSON (to commit it under test/histories)')
    .action(async (id: string | undefined, options: { historyFile?: string; workflowId?: string; save?: string }) => {
      if (!id && !options.historyFile) throw new JarvisProblem('give a run id or --history-file', 'invalid');
      const history = options.historyFile ? JSON.parse(readFileSync(options.historyFile, 'utf8')) : await (await context.temporal()).service.fetchHistory(id!);
      if (options.save) writeFileSync(options.save, `${historyToJSON(history)}\n`);
      await replayHistory(history, await bundleWorkflows(), createDataConverter(env), id ?? options.workflowId);
      console.log(`Replay of ${id ?? options.historyFile} succeeded: the current workflow code reproduces its ${history.events?.length ?? 0} events`);
    });
}
