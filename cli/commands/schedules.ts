// `jarvis schedules create|list|show|pause|unpause|trigger|backfill|delete`:
// runbooks on Temporal Schedules, through the API. The one who creates a
// schedule owns it: each fire starts the run as them, while they may.
import { Option, type Command } from 'commander';
import type { CompiledRunbook } from '../../manifest/types.js';
import { JarvisProblem } from '../../manifest/errors.js';
import { OVERLAP_POLICIES, type OverlapPolicyName } from '../../schedules/schedule-definition.js';
import type { ScheduleView } from '../../schedules/schedule-service.js';
import type { CliContext } from '../context.js';
import { parseInputPairs, readInputsFile } from '../inputs.js';
import { collect, outputOption } from '../options.js';
import { printData, renderTable, type OutputFormat } from '../output.js';

const overlapOption = (fallback?: OverlapPolicyName) => {
  const option = new Option('--overlap <policy>', 'what a fire does while the previous run still runs').choices(OVERLAP_POLICIES);
  return fallback ? option.default(fallback) : option;
};

function describeSpec(schedule: ScheduleView): string {
  const { spec } = schedule.definition;
  const parts = [
    ...(spec.cron ?? []).map((expression) => `cron "${expression}"`),
    ...(spec.intervals ?? []).map((interval) => `every ${interval.every}${interval.offset ? ` (offset ${interval.offset})` : ''}`),
    ...(spec.calendars ?? []).map((calendar) => calendar.comment ?? 'calendar'),
  ];
  return `${parts.join(', ')}${spec.timezone ? ` ${spec.timezone}` : ''}`;
}

function printSchedule(schedule: ScheduleView): string {
  const { policies, spec } = schedule.definition;
  return [
    `Schedule   ${schedule.name} (${schedule.id})${schedule.description ? `: ${schedule.description}` : ''}`,
    `Runbook    ${schedule.runbook} in ${schedule.environment}, as ${schedule.owner}`,
    `When       ${describeSpec(schedule)}${spec.jitter ? `, jitter ${spec.jitter}` : ''}${spec.startAt ? `, from ${spec.startAt}` : ''}${spec.endAt ? `, until ${spec.endAt}` : ''}`,
    `Policies   overlap ${policies.overlap ?? 'skip'}, catch-up ${policies.catchupWindow ?? '1m'}${policies.pauseOnFailure ? ', pauses on failure' : ''}`,
    `State      ${schedule.state}${schedule.note ? ` (${schedule.note})` : ''}`,
    `Next fires ${schedule.nextFires.length > 0 ? schedule.nextFires.join(', ') : '(none)'}`,
    '',
    schedule.fires.length === 0
      ? 'No fire yet.'
      : renderTable(schedule.fires, [
          { header: 'due', value: (fire) => fire.scheduledAt },
          { header: 'outcome', value: (fire) => fire.outcome },
          { header: 'run', value: (fire) => fire.runId ?? '' },
          { header: 'reason', value: (fire) => fire.reason ?? '' },
        ]),
  ].join('\n');
}

/** A schedule by id or by name. */
async function resolveId(context: CliContext, reference: string): Promise<string> {
  if (/^[0-9a-f-]{36}$/i.test(reference)) return reference;
  const schedules = await context.api().call<ScheduleView[]>('GET', '/schedules');
  const found = schedules.find((schedule) => schedule.name === reference);
  if (!found) throw new JarvisProblem(`no schedule named "${reference}" in the environments you can read`, 'not-found');
  return found.id;
}

export function registerScheduleCommands(program: Command, context: CliContext): void {
  const schedules = program.command('schedules').description('runbooks on schedules: cron, intervals, calendars (through the API)');

  schedules
    .command('create')
    .description('schedule a runbook; you own the schedule and each fire starts the run as you')
    .argument('<name>', 'a name for the schedule (lowercase letters, digits and dashes)')
    .requiredOption('-r, --runbook <name>', 'the runbook to run')
    .requiredOption('-e, --env <environment>', 'the environment to run it in')
    .option('--cron <expression>', 'a cron expression, e.g. "0 2 * * *" (repeatable)', collect, [])
    .option('--every <duration>', 'an interval, e.g. 15m, optionally with an offset: 1h+5m (repeatable)', collect, [])
    .option('--timezone <zone>', 'IANA time zone of cron times, e.g. America/Sao_Paulo')
    .option('--jitter <duration>', 'start each fire up to this much later, at random')
    .option('--start-at <time>', 'no fire before this time (ISO 8601)')
    .option('--end-at <time>', 'no fire after this time (ISO 8601)')
    .addOption(overlapOption('skip'))
    .option('--catchup-window <duration>', 'how late a missed fire may still start after an outage', '1m')
    .option('--pause-on-failure', 'pause the schedule when a run it started fails')
    .option('--paused', 'create it paused')
    .option('--note <text>', 'a note (why it is paused)')
    .option('-d, --description <text>', 'what the schedule is for')
    .option('-i, --input <key=value>', 'an input (repeatable)', collect, [])
    .option('--inputs-file <file>', 'inputs from a JSON or YAML file')
    .addOption(outputOption())
    .action(async (name: string, options: CreateOptions) => {
      const api = context.api();
      const runbook = await api.call<CompiledRunbook>('GET', `/runbooks/${encodeURIComponent(options.runbook)}`);
      const inputs = { ...(options.inputsFile ? readInputsFile(options.inputsFile) : {}), ...parseInputPairs(options.input, runbook) };
      const intervals = options.every.map((text) => {
        const [every, offset] = text.split('+');
        return { every: every!, ...(offset ? { offset } : {}) };
      });
      const created = await api.call<ScheduleView>('POST', '/schedules', {
        name,
        runbook: options.runbook,
        environment: options.env,
        inputs,
        ...(options.description ? { description: options.description } : {}),
        spec: {
          ...(options.cron.length > 0 ? { cron: options.cron } : {}),
          ...(intervals.length > 0 ? { intervals } : {}),
          ...(options.timezone ? { timezone: options.timezone } : {}),
          ...(options.jitter ? { jitter: options.jitter } : {}),
          ...(options.startAt ? { startAt: options.startAt } : {}),
          ...(options.endAt ? { endAt: options.endAt } : {}),
        },
        policies: { overlap: options.overlap, catchupWindow: options.catchupWindow, pauseOnFailure: Boolean(options.pauseOnFailure) },
        ...(options.paused ? { paused: true } : {}),
        ...(options.note ? { note: options.note } : {}),
      });
      printData(options.output, created, printSchedule);
    });

  schedules
    .command('list')
    .description('schedules with their state and next fire')
    .option('-e, --env <environment>', 'only this environment')
    .addOption(outputOption())
    .action(async (options: { env?: string; output: OutputFormat }) => {
      const listed = await context.api().call<ScheduleView[]>('GET', `/schedules${options.env ? `?environment=${encodeURIComponent(options.env)}` : ''}`);
      printData(options.output, listed, [
        { header: 'name', value: (schedule) => schedule.name },
        { header: 'runbook', value: (schedule) => schedule.runbook },
        { header: 'env', value: (schedule) => schedule.environment },
        { header: 'when', value: describeSpec },
        { header: 'state', value: (schedule) => schedule.state },
        { header: 'next fire', value: (schedule) => schedule.nextFires[0] ?? '' },
        { header: 'owner', value: (schedule) => schedule.owner },
      ]);
    });

  schedules
    .command('show')
    .description('a schedule: spec, policies, next fires and recent fires')
    .argument('<schedule>', 'name or id')
    .addOption(outputOption())
    .action(async (reference: string, options: { output: OutputFormat }) => {
      const shown = await context.api().call<ScheduleView>('GET', `/schedules/${await resolveId(context, reference)}`);
      printData(options.output, shown, printSchedule);
    });

  for (const verb of ['pause', 'unpause'] as const) {
    schedules
      .command(verb)
      .description(verb === 'pause' ? 'pause a schedule: no fire until unpaused' : 'unpause a schedule')
      .argument('<schedule>', 'name or id')
      .option('--note <text>', verb === 'pause' ? 'why it is paused' : 'a note')
      .action(async (reference: string, options: { note?: string }) => {
        const changed = await context.api().call<ScheduleView>('POST', `/schedules/${await resolveId(context, reference)}/${verb}`, options.note ? { note: options.note } : {});
        console.log(`Schedule ${changed.name} is ${changed.state}${changed.note ? ` (${changed.note})` : ''}.`);
      });
  }

  schedules
    .command('trigger')
    .description('fire a schedule now')
    .argument('<schedule>', 'name or id')
    .addOption(overlapOption('allow-all'))
    .action(async (reference: string, options: { overlap?: OverlapPolicyName }) => {
      await context.api().call('POST', `/schedules/${await resolveId(context, reference)}/trigger`, options.overlap ? { overlap: options.overlap } : {});
      console.log(`Schedule ${reference} fired; see its runs with: jarvis schedules show ${reference}`);
    });

  schedules
    .command('backfill')
    .description('fire once for every time the schedule names in a past range')
    .argument('<schedule>', 'name or id')
    .requiredOption('--from <time>', 'start of the range (ISO 8601)')
    .requiredOption('--to <time>', 'end of the range, exclusive (ISO 8601)')
    .addOption(overlapOption('allow-all'))
    .action(async (reference: string, options: { from: string; to: string; overlap: OverlapPolicyName }) => {
      await context.api().call('POST', `/schedules/${await resolveId(context, reference)}/backfill`, { start: options.from, end: options.to, overlap: options.overlap });
      console.log(`Backfill of ${reference} from ${options.from} to ${options.to} requested.`);
    });

  schedules
    .command('delete')
    .description('delete a schedule (its runs stay)')
    .argument('<schedule>', 'name or id')
    .action(async (reference: string) => {
      await context.api().call('DELETE', `/schedules/${await resolveId(context, reference)}`);
      console.log(`Schedule ${reference} deleted.`);
    });
}

interface CreateOptions {
  runbook: string;
  env: string;
  cron: string[];
  every: string[];
  timezone?: string;
  jitter?: string;
  startAt?: string;
  endAt?: string;
  overlap: OverlapPolicyName;
  catchupWindow: string;
  pauseOnFailure?: boolean;
  paused?: boolean;
  note?: string;
  description?: string;
  input: string[];
  inputsFile?: string;
  output: OutputFormat;
}
