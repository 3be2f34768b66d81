// The `jarvis` command. Until the API exists it talks to Temporal directly and
// `--as` names the acting user.
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { Command, Option } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { actionCatalog } from '../activities/catalog.js';
import { loadEnv } from '../config/env.js';
import { RunbookCatalog } from '../manifest/catalog.js';
import { parseYaml, type CompiledManifest, type LoadResult } from '../manifest/loader.js';
import { ROLES, type Role } from '../manifest/types.js';
import { JarvisProblem } from '../manifest/errors.js';
import { RunService } from '../runs/run-service.js';
import { runAuthorityOf } from '../security/run-authority.js';
import { createTemporalClient } from '../temporal/client.js';
import { temporalTlsOf } from '../temporal/tls.js';
import { createDataConverter } from '../temporal/payload-codec.js';
import { replayHistory } from '../temporal/replay-history.js';
import { bundleWorkflows } from '../temporal/worker.js';
import type { RunDetails, RunSummary, StepProgress } from '../runs/run-contract.js';
import { parseInputPairs, readInputsFile } from './inputs.js';
import { OUTPUT_FORMATS, printData, renderTable, type OutputFormat } from './output.js';
import { ApiRunOperations, TemporalRunOperations, type RunOperations } from './run-operations.js';
import { readSession, removeSession, saveSession } from './session.js';
import { readStdin } from './stdin.js';
import { registerNodeCommands } from './nodes.js';
import { registerAiCommands } from './ai.js';
import { registerUserCommands } from './users.js';
import { runOutcome, watchRun } from './watch.js';

const env = loadEnv();

class CommandFailed extends Error {}

const loadRunbooks = () => RunbookCatalog.fromDirectory(env.runbooksDir, actionCatalog);

let services: Promise<{ service: RunService; catalog: RunbookCatalog; close(): Promise<void> }> | undefined;
function connect() {
  services ??= (async () => {
    const catalog = await loadRunbooks();
    const client = await createTemporalClient({ address: env.temporalAddress ?? `127.0.0.1:${env.temporalPort}`, namespace: env.namespace, tls: temporalTlsOf(env) }, createDataConverter(env), 5_000);
    return { service: new RunService(client, catalog, env.taskQueue, runAuthorityOf(env)), catalog, close: () => client.connection.close() };
  })();
  return services;
}

const outputOption = () => new Option('-o, --output <format>', 'table, json or yaml').choices(OUTPUT_FORMATS).default('table');
const actingUser = (as?: string) => as ?? env.actingUser ?? os.userInfo().username;

let chosenOperations: Promise<RunOperations> | undefined;
/** Through the API when there is a session (`jarvis login` or JARVIS_API_TOKEN), else straight to Temporal. */
function operations(): Promise<RunOperations> {
  chosenOperations ??= (async () => {
    const session = readSession(env);
    if (session) return new ApiRunOperations(session.apiUrl, session.token);
    return new TemporalRunOperations((await connect()).service);
  })();
  return chosenOperations;
}

function actor(as: string | undefined, roles: string[] = ['approver']) {
  return { user: actingUser(as), roles: parseRoles(roles) };
}
const collect = (value: string, previous: string[]) => [...previous, value];

function parseRoles(values: string[]): Role[] {
  for (const role of values) {
    if (!(ROLES as readonly string[]).includes(role)) throw new JarvisProblem(`"${role}" is not a role (use ${ROLES.join(', ')})`, 'invalid');
  }
  return values as Role[];
}

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
    if (progress.compensations.length > 0) {
      lines.push('', 'Compensations:', ...progress.compensations.map((entry) => `  ${entry.id} (for ${entry.forStep}): ${entry.status}${entry.error ? `: ${entry.error}` : ''}`));
    }
  }
  return lines.join('\n');
}

/** Runs a started run to its end when --watch is given; a run that does not succeed fails the command. */
async function reportStarted(service: Pick<RunService, 'showRun'>, started: { id: string }, watch: boolean, verb: string): Promise<void> {
  console.log(`${verb} run ${started.id}`);
  if (!watch) {
    console.log(`Follow it with: npx jarvis run show ${started.id}`);
    return;
  }
  const details = await watchRun(service, started.id, (line) => console.log(`  ${line}`));
  const outcome = runOutcome(details);
  console.log(`Run ${started.id} ${outcome}${details.error ? `: ${details.error}` : ''}`);
  if (outcome !== 'succeeded') throw new CommandFailed();
}

const program = new Command('jarvis').description('Jarvis operations control plane').showHelpAfterError();

const runbooks = program.command('runbooks').description('the runbook catalog');
runbooks
  .command('list')
  .description('list the runbooks in the catalog')
  .option('--category <category>', 'only this category')
  .option('--tag <tag>', 'only runbooks with this tag')
  .addOption(outputOption())
  .action(async (options: { category?: string; tag?: string; output: OutputFormat }) => {
    const catalog = await loadRunbooks();
    const entries = catalog.list().filter((entry) => (!options.category || entry.category === options.category) && (!options.tag || entry.tags.includes(options.tag)));
    printData(options.output, entries, [
      { header: 'name', value: (entry) => entry.name },
      { header: 'title', value: (entry) => entry.title },
      { header: 'category', value: (entry) => entry.category },
      { header: 'tags', value: (entry) => entry.tags },
      { header: 'valid', value: (entry) => (entry.errors.length === 0 ? 'yes' : `no (${entry.errors.length} errors)`) },
    ]);
  });

runbooks
  .command('show')
  .description('show a runbook: its inputs and steps')
  .argument('<name>')
  .addOption(outputOption())
  .action(async (name: string, options: { output: OutputFormat }) => {
    const catalog = await loadRunbooks();
    const result = catalog.compile(name);
    if (!result) throw new JarvisProblem(`no runbook named "${name}" in ${env.runbooksDir}`, 'not-found');
    if (!result.ok) throw new JarvisProblem(`runbook "${name}" is invalid:`, 'invalid', result.errors);
    const runbook = result.compiled.runbook;
    printData(options.output, runbook, (value) =>
      [
        `${value.title} (${value.name}, version ${value.version})`,
        value.description,
        `Category: ${value.category}   Tags: ${value.tags.join(', ')}   Environments: ${value.environments.join(', ')}   Role: ${value.requiredRole}`,
        value.concurrencyKey ? `One run at a time per ${value.concurrencyKey}` : '',
        '',
        'Inputs:',
        ...Object.entries((value.inputs.properties ?? {}) as Record<string, { type?: string; description?: string; default?: unknown }>).map(
          ([input, schema]) =>
            `  ${input} (${schema.type ?? 'any'}${((value.inputs.required as string[] | undefined) ?? []).includes(input) ? ', required' : ''})${schema.default !== undefined ? ` default ${JSON.stringify(schema.default)}` : ''}${schema.description ? `: ${schema.description}` : ''}`,
        ),
        '',
        'Steps:',
        ...value.steps.map((step) => `  ${step.id}: ${step.kind === 'action' ? step.action : step.kind}${step.title ? ` (${step.title})` : ''}${step.when ? ` when ${step.when}` : ''}`),
      ]
        .filter((line, index, all) => line !== '' || all[index - 1] !== '')
        .join('\n'),
    );
  });

runbooks
  .command('validate')
  .description('check a manifest file and list every mistake with its path')
  .argument('<file>')
  .action(async (file: string) => {
    const catalog = await loadRunbooks();
    const result = compileFile(catalog, file);
    console.log(`${file}: valid runbook "${result.runbook.name}" (version ${result.runbook.version}, ${result.runbook.steps.length} steps)`);
  });

function compileFile(catalog: RunbookCatalog, file: string): CompiledManifest {
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
    const runs = await operations();
    const file = /\.ya?ml$/.test(name) ? compileFile(await loadRunbooks(), name) : undefined;
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
    const runs = await (await operations()).list({ status: options.status, runbook: options.runbook, environment: options.env, limit: options.limit });
    printData(options.output, runs, runColumns);
  });

run
  .command('show')
  .description("show a run: status, steps with attempts, timings, outputs and errors")
  .argument('<id>')
  .addOption(outputOption())
  .action(async (id: string, options: { output: OutputFormat }) => {
    printData(options.output, await (await operations()).showRun(id), renderRunDetails);
  });

const roleOption = () => new Option('--role <role>', 'a role the acting user holds (repeatable)').argParser(collect).default(['approver']);

run
  .command('approve')
  .description('approve a step that waits for approval')
  .argument('<id>')
  .argument('<step>')
  .option('-c, --comment <comment>')
  .option('--as <user>', 'who approves')
  .addOption(roleOption())
  .action(async (id: string, step: string, options: { comment?: string; as?: string; role: string[] }) => {
    const answer = await (await operations()).approve(id, step, actor(options.as, options.role), options.comment);
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
    await (await operations()).reject(id, step, actor(options.as, options.role), options.reason);
    console.log(`Step ${step} of run ${id} rejected`);
  });

run
  .command('cancel')
  .description('cancel a running run; compensations of completed steps run')
  .argument('<id>')
  .action(async (id: string) => {
    await (await operations()).cancel(id);
    console.log(`Cancellation of run ${id} requested`);
  });

run
  .command('rerun')
  .description('start a new run with the same manifest version and inputs, linked to the original')
  .argument('<id>')
  .option('--as <user>')
  .option('-w, --watch')
  .action(async (id: string, options: { as?: string; watch?: boolean }) => {
    const runs = await operations();
    await reportStarted(runs, await runs.rerun(id, actor(options.as)), options.watch ?? false, `Re-ran ${id} as`);
  });

run
  .command('resume')
  .description('resume a failed run from its failed step; completed steps are not executed again')
  .argument('<id>')
  .option('--as <user>')
  .option('-w, --watch')
  .action(async (id: string, options: { as?: string; watch?: boolean }) => {
    const runs = await operations();
    const resumed = await runs.resume(id, actor(options.as));
    console.log(`Resuming from step ${resumed.fromStep} (new execution ${resumed.runId})`);
    await reportStarted(runs, resumed, options.watch ?? false, 'Resumed');
  });

run
  .command('replay')
  .description("replay a run's history against the current workflow code")
  .argument('[id]', 'a run id (or use --history-file)')
  .option('--history-file <file>', 'replay a saved history instead of fetching one')
  .option('--workflow-id <id>', 'the workflow id the saved history was recorded under (child run ids derive from it)')
  .option('--save <file>', 'also save the fetched history as JSON (to commit it under test/histories)')
  .action(async (id: string | undefined, options: { historyFile?: string; workflowId?: string; save?: string }) => {
    if (!id && !options.historyFile) throw new JarvisProblem('give a run id or --history-file', 'invalid');
    const history = options.historyFile ? JSON.parse(readFileSync(options.historyFile, 'utf8')) : await (await connect()).service.fetchHistory(id!);
    if (options.save) writeFileSync(options.save, `${historyToJSON(history)}\n`);
    await replayHistory(history, await bundleWorkflows(), createDataConverter(env), id ?? options.workflowId);
    console.log(`Replay of ${id ?? options.historyFile} succeeded: the current workflow code reproduces its ${history.events?.length ?? 0} events`);
  });

registerUserCommands(program, env);

/** Container commands act through the API only (RBAC, audit and approvals apply). */
function apiSession(): ApiRunOperations {
  const session = readSession(env);
  if (!session) throw new JarvisProblem('container commands go through the API: run `npx jarvis login` first (or set JARVIS_API_TOKEN)', 'invalid');
  return new ApiRunOperations(session.apiUrl, session.token);
}

interface ContainerRow {
  group: string;
  name: string;
  image: string;
  state: string;
  status: string;
  health?: string;
}

const containers = program.command('containers').description('containers of a Docker endpoint (a docker connection)');
const endpointOptions = (command: Command) =>
  command.requiredOption('-e, --env <environment>', 'the environment of the connection').requiredOption('--endpoint <connection>', 'the docker connection to use');
endpointOptions(containers.command('list').description('containers grouped by Swarm stack or Compose project'))
  .addOption(outputOption())
  .action(async (options: { env: string; endpoint: string; output: OutputFormat }) => {
    const query = new URLSearchParams({ environment: options.env, endpoint: options.endpoint });
    const groups = await apiSession().call<Array<{ group: string; containers: ContainerRow[] }>>('GET', `/containers?${query}`);
    const rows = groups.flatMap((group) => group.containers.map((container) => ({ ...container, group: group.group })));
    printData(options.output, rows, () =>
      renderTable(rows, [
        { header: 'group', value: (row: ContainerRow) => row.group },
        { header: 'name', value: (row: ContainerRow) => row.name },
        { header: 'image', value: (row: ContainerRow) => row.image },
        { header: 'state', value: (row: ContainerRow) => row.state },
        { header: 'health', value: (row: ContainerRow) => row.health },
        { header: 'status', value: (row: ContainerRow) => row.status },
      ]),
    );
  });
for (const verb of ['restart', 'stop', 'start'] as const) {
  endpointOptions(containers.command(verb).description(`${verb} a container (a container-${verb} run; prod asks an approver first)`).argument('<container>'))
    .option('-w, --watch', 'follow the run to its end')
    .action(async (container: string, options: { env: string; endpoint: string; watch?: boolean }) => {
      const session = apiSession();
      const started = await session.call<{ id: string }>('POST', `/containers/${encodeURIComponent(container)}/${verb}`, { environment: options.env, endpoint: options.endpoint });
      await reportStarted(session, started, Boolean(options.watch), `${verb[0]!.toUpperCase()}${verb.slice(1)} of ${container} is`);
    });
}
endpointOptions(containers.command('logs').description("the last lines of a container's output").argument('<container>'))
  .option('-n, --tail <lines>', 'how many lines', '200')
  .action(async (container: string, options: { env: string; endpoint: string; tail: string }) => {
    const query = new URLSearchParams({ environment: options.env, endpoint: options.endpoint, tail: options.tail });
    const { lines } = await apiSession().call<{ lines: Array<{ stream: string; text: string }> }>('GET', `/containers/${encodeURIComponent(container)}/logs?${query}`);
    for (const line of lines) (line.stream === 'stderr' ? process.stderr : process.stdout).write(`${line.text}\n`);
  });

registerNodeCommands(program, env, apiSession);
registerAiCommands(program, apiSession);

const stacks = program.command('stacks').description('Swarm stacks of a Docker endpoint (through the API)');
endpointOptions(stacks.command('deploy').description('deploy a stack manifest (a deploy-stack run; prod asks an approver first)').argument('<file>', 'the stack manifest (YAML)'))
  .option('--smoke-url <url>', 'an URL that must answer 200 once deployed')
  .option('-w, --watch', 'follow the run to its end')
  .action(async (file: string, options: { env: string; endpoint: string; smokeUrl?: string; watch?: boolean }) => {
    const session = apiSession();
    const inputs = { endpoint: options.endpoint, stack: readFileSync(file, 'utf8'), ...(options.smokeUrl ? { smokeUrl: options.smokeUrl } : {}) };
    const started = await session.call<{ id: string }>('POST', '/runbooks/deploy-stack/execute', { environment: options.env, inputs });
    await reportStarted(session, started, Boolean(options.watch), `Deploy of ${file} is`);
  });
endpointOptions(stacks.command('list').description('stacks with their services and replicas'))
  .addOption(outputOption())
  .action(async (options: { env: string; endpoint: string; output: OutputFormat }) => {
    const query = new URLSearchParams({ environment: options.env, endpoint: options.endpoint });
    type ServiceRow = { stack: string; name: string; image: string; replicas: number; running: number; updateState?: string };
    const listed = await apiSession().call<Array<{ name: string; services: Array<Omit<ServiceRow, 'stack'>> }>>('GET', `/stacks?${query}`);
    const rows: ServiceRow[] = listed.flatMap((stack) => stack.services.map((service) => ({ ...service, stack: stack.name })));
    printData(options.output, rows, () =>
      renderTable(rows, [
        { header: 'stack', value: (row: ServiceRow) => row.stack },
        { header: 'service', value: (row: ServiceRow) => row.name },
        { header: 'image', value: (row: ServiceRow) => row.image },
        { header: 'replicas', value: (row: ServiceRow) => `${row.running}/${row.replicas}` },
        { header: 'update', value: (row: ServiceRow) => row.updateState },
      ]),
    );
  });
endpointOptions(stacks.command('rm').description('remove a stack (a remove-stack run; prod asks an approver first)').argument('<stack>'))
  .option('-w, --watch', 'follow the run to its end')
  .action(async (stack: string, options: { env: string; endpoint: string; watch?: boolean }) => {
    const session = apiSession();
    const started = await session.call<{ id: string }>('POST', '/runbooks/remove-stack/execute', { environment: options.env, inputs: { endpoint: options.endpoint, stack } });
    await reportStarted(session, started, Boolean(options.watch), `Removal of ${stack} is`);
  });

program
  .command('login')
  .description('sign in to the API; later run commands go through it (the password is read from standard input)')
  .requiredOption('--email <email>')
  .option('--api <url>', 'the API', env.apiUrl)
  .option('--totp <code>', 'the current one-time code, for accounts with TOTP')
  .action(async (options: { email: string; api: string; totp?: string }) => {
    if (process.stdin.isTTY) throw new JarvisProblem('pipe the password on standard input, e.g. `read -s P; echo "$P" | npx jarvis login --email ...`', 'invalid');
    const password = await readStdin();
    const api = options.api.replace(/\/$/, '');
    const post = async (route: string, body: unknown, token?: string) => {
      const response = await fetch(`${api}${route}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      }).catch((error: Error) => {
        throw new JarvisProblem(`cannot reach the API at ${api}: ${error.message}`, 'not-found');
      });
      const payload = (await response.json()) as { detail?: string; accessToken?: string; token?: string };
      if (!response.ok) throw new JarvisProblem(payload.detail ?? `HTTP ${response.status}`, response.status === 401 ? 'forbidden' : 'invalid');
      return payload;
    };
    const login = await post('/auth/login', { email: options.email, password, ...(options.totp ? { totp: options.totp } : {}) });
    // No expiry asked: the token lives as long as the API allows (JARVIS_API_TOKEN_MAX_TTL).
    const created = await post('/auth/api-tokens', { name: `jarvis CLI on ${os.hostname()}` }, login.accessToken);
    const file = saveSession(env, { apiUrl: api, token: created.token!, email: options.email });
    console.log(`Signed in to ${api} as ${options.email}; the CLI token is kept in ${file}`);
  });

program
  .command('logout')
  .description('forget the API session; run commands then talk to Temporal directly')
  .action(() => {
    console.log(removeSession(env) ? 'Signed out' : 'There was no session');
  });

const EXIT_CODES = { invalid: 2, 'not-found': 3, conflict: 4, forbidden: 5, unavailable: 6 } as const;

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof JarvisProblem) {
    console.error(`error: ${error.message}`);
    process.exitCode = EXIT_CODES[error.kind];
  } else if (error instanceof CommandFailed) {
    process.exitCode = 1;
  } else {
    // The SDK wraps the useful part (e.g. "encrypted with key X, which is not configured") in a cause.
    const cause = (error as Error).cause instanceof Error ? `: ${((error as Error).cause as Error).message}` : '';
    console.error(`error: ${(error as Error).message}${cause}`);
    process.exitCode = 1;
  }
} finally {
  if (services) await (await services.catch(() => undefined))?.close();
}
