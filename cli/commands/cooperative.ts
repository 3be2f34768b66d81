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
