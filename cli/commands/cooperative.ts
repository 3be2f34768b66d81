// `jarvis cooperative credits balance|accounts|transfer|statement` and
// `jarvis cooperative treasurers`: the cooperative's credits, through the API.
import type { Command } from 'commander';
import { JarvisProblem } from '../../manifest/errors.js';
import type { CliContext } from '../context.js';
import { outputOption } from '../options.js';
import { printData, renderTable, type OutputFormat } from '../output.js';

interface AccountView {
  id: string;
  reference: string;
  kind: string;
  label: string;
  balance: number;
}

interface TransferView {
  transferId: string;
  workflowId: string;
  status: string;
  reason?: string;
  amount: number;
  replayed: boolean;
}

interface StatementView {
  account: AccountView;
  lines: Array<{ entryId: number; at: string; kind: string; counterparty: string; memo: string; amount: number; balanceAfter: number }>;
}

interface ProposalView {
  id: string;
  title: string;
  status: string;
  proposedBy: string;
  closesAt: string;
  effect: { kind: string } | null;
  tally: { yes: number; no: number; abstain: number; quorumReached: boolean; accepted: boolean } | null;
  effectResult: Record<string, unknown> | null;
  votes?: Array<{ email: string; vote: string; reason: string }>;
}

interface ReputationView {
  account: AccountView;
  score: number;
  components: Record<string, number>;
  trend: { points: Array<{ at: string; score: number }>; change: number };
}

const proposalColumns = [
  { header: 'id', value: (proposal: ProposalView) => proposal.id },
  { header: 'title', value: (proposal: ProposalView) => proposal.title },
  { header: 'status', value: (proposal: ProposalView) => proposal.status },
  { header: 'effect', value: (proposal: ProposalView) => proposal.effect?.kind ?? '' },
  { header: 'closes', value: (proposal: ProposalView) => proposal.closesAt },
  { header: 'yes/no/abstain', value: (proposal: ProposalView) => (proposal.tally ? `${proposal.tally.yes}/${proposal.tally.no}/${proposal.tally.abstain}` : '') },
];

const accountColumns = [
  { header: 'account', value: (account: AccountView) => account.reference },
  { header: 'kind', value: (account: AccountView) => account.kind },
  { header: 'balance', value: (account: AccountView) => account.balance },
];

/** `node-01`, `dev/node-01`, `alice@example.org`, `issuance`, or a full reference (`member:…`, `node:…`). */
export function accountReference(value: string): string {
  if (value === 'issuance' || value.startsWith('member:') || value.startsWith('node:')) return value;
  return value.includes('@') ? `member:${value}` : `node:${value}`;
}

const accountPath = (reference: string) => `/cooperative/accounts/${encodeURIComponent(reference)}`;

function positiveWhole(value: string): number {
  const amount = Number(value);
  if (!Number.isSafeInteger(amount) || amount < 1) throw new JarvisProblem(`--amount must be a whole number of credits above 0, not "${value}"`, 'invalid');
  return amount;
}

export function registerCooperativeCommands(program: Command, context: CliContext): void {
  const cooperative = program.command('cooperative').description("the cooperative grid: members' and nodes' credits");
  const credits = cooperative.command('credits').description('credit accounts, transfers and statements');

  credits
    .command('balance')
    .description("an account's balance (your own without --node, --member or --account)")
    .option('--node <name>', 'a node, as NAME or ENVIRONMENT/NAME')
    .option('--member <email>', 'a member')
    .option('--account <reference>', 'member:EMAIL, node:NAME or issuance')
    .addOption(outputOption())
    .action(async (options: { node?: string; member?: string; account?: string; output: OutputFormat }) => {
      const reference = options.account ?? (options.node ? `node:${options.node}` : options.member ? `member:${options.member}` : undefined);
      const account = reference ? await context.api().call<AccountView>('GET', accountPath(reference)) : (await context.api().call<{ account: AccountView }>('GET', '/cooperative/me')).account;
      printData(options.output, account, accountColumns);
    });

  credits
    .command('accounts')
    .description('every account with its balance')
    .addOption(outputOption())
    .action(async (options: { output: OutputFormat }) => {
      printData(options.output, await context.api().call<AccountView[]>('GET', '/cooperative/accounts'), accountColumns);
    });

  credits
    .command('transfer')
    .description('move credits (from your own account; a treasurer from any): applied once per --key, however often it is sent')
    .requiredOption('--from <account>', 'node-01, dev/node-01, alice@example.org or issuance')
    .requiredOption('--to <account>', 'the same forms')
    .requiredOption('--amount <credits>', 'a whole number above 0', positiveWhole)
    .option('--memo <text>')
    .option('--key <key>', 'an idempotency key: sending the same transfer again with it applies it once')
    .addOption(outputOption())
    .action(async (options: { from: string; to: string; amount: number; memo?: string; key?: string; output: OutputFormat }) => {
      const result = await context
        .api()
        .call<TransferView>('POST', '/cooperative/transfers', {
          from: accountReference(options.from),
          to: accountReference(options.to),
          amount: options.amount,
          ...(options.memo ? { memo: options.memo } : {}),
          ...(options.key ? { idempotencyKey: options.key } : {}),
        });
      printData(options.output, result, (data) =>
        [
          renderTable(
            [data],
            [
              { header: 'transfer', value: (row) => row.transferId },
              { header: 'status', value: (row) => row.status },
              { header: 'amount', value: (row) => row.amount },
              { header: 'replayed', value: (row) => (row.replayed ? 'yes' : '') },
            ],
          ),
          ...(data.reason ? [`refused: ${data.reason}`] : []),
        ].join('\n'),
      );
      if (result.status !== 'applied') process.exitCode = 5;
    });

  credits
    .command('statement <account>')
    .description("an account's entries over a time range (--csv: the CSV the API makes)")
    .option('--from <time>', 'ISO 8601, inclusive')
    .option('--to <time>', 'ISO 8601, exclusive')
    .option('--csv', 'print CSV')
    .addOption(outputOption())
    .action(async (account: string, options: { from?: string; to?: string; csv?: boolean; output: OutputFormat }) => {
      const query = new URLSearchParams({ ...(options.from ? { from: options.from } : {}), ...(options.to ? { to: options.to } : {}), ...(options.csv ? { format: 'csv' } : {}) });
      const path = `${accountPath(accountReference(account))}/statement?${query}`;
      if (options.csv) return void process.stdout.write(await context.api().text('GET', path));
      printData(options.output, await context.api().call<StatementView>('GET', path), (data) =>
        [
          `${data.account.reference}: ${data.account.balance} credits`,
          data.lines.length === 0
            ? '(no entries in this range)'
            : renderTable(data.lines, [
                { header: 'at', value: (line) => line.at },
                { header: 'kind', value: (line) => line.kind },
                { header: 'counterparty', value: (line) => line.counterparty },
                { header: 'amount', value: (line) => line.amount },
                { header: 'balance', value: (line) => line.balanceAfter },
                { header: 'memo', value: (line) => line.memo },
              ]),
        ].join('\n'),
      );
    });

  const governance = cooperative.command('governance').description('proposals and votes');
  governance
    .command('proposals')
    .description('proposals, newest first')
    .option('--status <status>', 'voting, accepted or rejected')
    .addOption(outputOption())
    .action(async (options: { status?: string; output: OutputFormat }) => {
      const query = options.status ? `?${new URLSearchParams({ status: options.status })}` : '';
      printData(options.output, await context.api().call<ProposalView[]>('GET', `/cooperative/proposals${query}`), proposalColumns);
    });
  governance
    .command('show <id>')
    .description('a proposal with its votes, tally and effect')
    .addOption(outputOption())
    .action(async (id: string, options: { output: OutputFormat }) => {
      const proposal = await context.api().call<ProposalView>('GET', `/cooperative/proposals/${encodeURIComponent(id)}`);
      printData(options.output, proposal, (data) =>
        [
          renderTable([data], proposalColumns),
          ...(data.votes && data.votes.length > 0
            ? [
                '',
                renderTable(data.votes, [
                  { header: 'member', value: (vote) => vote.email },
                  { header: 'vote', value: (vote) => vote.vote },
                  { header: 'reason', value: (vote) => vote.reason },
                ]),
              ]
            : []),
          ...(data.effectResult ? ['', `effect: ${JSON.stringify(data.effectResult)}`] : []),
        ].join('\n'),
      );
    });
  governance
    .command('propose')
    .description('propose to the members; --rate and --voting set an effect applied if accepted')
    .requiredOption('--title <title>')
    .option('--text <text>', 'what and why', '')
    .option('--voting-hours <hours>', 'how long voting stays open', '72')
    .option('--uptime-rate <credits>', 'effect: credits per uptime hour')
    .option('--step-rate <credits>', 'effect: credits per step run')
    .option('--runbook <name>', 'effect: start this runbook (as you, with its approvals) in --env')
    .option('-e, --env <environment>', 'the environment of --runbook')
    .addOption(outputOption())
    .action(async (options: { title: string; text: string; votingHours: string; uptimeRate?: string; stepRate?: string; runbook?: string; env?: string; output: OutputFormat }) => {
      const hours = Number(options.votingHours);
      if (!(hours > 0)) throw new JarvisProblem('--voting-hours must be above 0', 'invalid');
      const rates = { ...(options.uptimeRate ? { uptimeCreditsPerHour: positiveWhole(options.uptimeRate) } : {}), ...(options.stepRate ? { creditsPerStep: positiveWhole(options.stepRate) } : {}) };
      if (options.runbook && !options.env) throw new JarvisProblem('--runbook needs --env', 'invalid');
      const effect = options.runbook ? { kind: 'runbook', runbook: options.runbook, environment: options.env, inputs: {} } : Object.keys(rates).length > 0 ? { kind: 'rates', rates } : undefined;
      const proposal = await context
        .api()
        .call<ProposalView>('POST', '/cooperative/proposals', { title: options.title, text: options.text, votingSeconds: Math.round(hours * 3600), ...(effect ? { effect } : {}) });
      printData(options.output, proposal, proposalColumns);
    });
  governance
    .command('vote')
    .description('vote, or change your vote, until the proposal closes')
    .requiredOption('--proposal <id>')
    .requiredOption('--vote <vote>', 'yes, no or abstain')
    .option('--reason <text>', 'why', '')
    .addOption(outputOption())
    .action(async (options: { proposal: string; vote: string; reason: string; output: OutputFormat }) => {
      if (!['yes', 'no', 'abstain'].includes(options.vote)) throw new JarvisProblem(`--vote must be yes, no or abstain, not "${options.vote}"`, 'invalid');
      const proposal = await context.api().call<ProposalView>('POST', `/cooperative/proposals/${encodeURIComponent(options.proposal)}/votes`, { vote: options.vote, reason: options.reason });
      printData(options.output, proposal, (data) => `Voted ${options.vote} on "${data.title}" (closes ${data.closesAt})`);
    });

  const reputation = cooperative.command('reputation').description('reputation of nodes and members');
  reputation
    .command('show')
    .description('a score from 0 to 100 with its components (yours without --node or --member)')
    .option('--node <name>', 'a node, as NAME or ENVIRONMENT/NAME')
    .option('--member <email>', 'a member')
    .option('--trend', 'also the score at the end of each of the last seven days')
    .addOption(outputOption())
    .action(async (options: { node?: string; member?: string; trend?: boolean; output: OutputFormat }) => {
      const reference = options.node
        ? `node:${options.node}`
        : options.member
          ? `member:${options.member}`
          : (await context.api().call<{ account: AccountView }>('GET', '/cooperative/me')).account.reference;
      const view = await context.api().call<ReputationView>('GET', `${accountPath(reference)}/reputation`);
      const shown = options.trend ? view : { ...view, trend: undefined };
      printData(options.output, shown, () =>
        [
          `${view.account.reference}: ${view.score}`,
          renderTable(Object.entries(view.components), [
            { header: 'component', value: ([name]) => name },
            { header: 'value', value: ([, value]) => value },
          ]),
          ...(options.trend
            ? [
                '',
                renderTable(view.trend.points, [
                  { header: 'at', value: (point) => point.at },
                  { header: 'score', value: (point) => point.score },
                ]),
                `change over the last day: ${view.trend.change >= 0 ? '+' : ''}${view.trend.change}`,
              ]
            : []),
        ].join('\n'),
      );
    });

  const treasurers = cooperative.command('treasurers').description('who may move credits of every account');
  treasurers
    .command('list', { isDefault: true })
    .addOption(outputOption())
    .action(async (options: { output: OutputFormat }) => {
      const emails = await context.api().call<string[]>('GET', '/cooperative/treasurers');
      printData(
        options.output,
        emails.map((email) => ({ email })),
        [{ header: 'treasurer', value: (row) => row.email }],
      );
    });
  treasurers
    .command('grant <email>')
    .description('make a member treasurer (an admin)')
    .action(async (email: string) => {
      await context.api().call('POST', '/cooperative/treasurers', { email });
      console.log(`${email} is treasurer`);
    });
  treasurers
    .command('revoke <email>')
    .description('take the treasurer role back (an admin)')
    .action(async (email: string) => {
      await context.api().call('DELETE', `/cooperative/treasurers/${encodeURIComponent(email)}`);
      console.log(`${email} is no longer treasurer`);
    });
}
