// The Cooperative page: the member's account and roles, every account's
// balance, a transfer form (own account; any for treasurers) and an account's
// statement with its balance over time. The API decides who may move what.
import { data, Form, Link, useNavigation } from 'react-router';
import type { Route } from './+types/cooperative.js';
import { formatDateTime, useLanguage, useT, type MessageKey } from '../i18n/index.js';
import { ApiProblem, problemMessage, requireApi } from '../lib/api.server.js';
import { ProposalsPanel, ReputationPanel, type ProposalItem, type ReputationItem } from './cooperative-panels.js';

interface Account {
  id: string;
  reference: string;
  kind: 'member' | 'node' | 'issuance';
  label: string;
  balance: number;
}

interface StatementLine {
  entryId: number;
  at: string;
  kind: string;
  counterparty: string;
  memo: string;
  amount: number;
  balanceAfter: number;
}

type Answer = { error: string } | { voted: true } | { status: 'applied' | 'refused'; amount: number; reason?: string; replayed: boolean };

export async function loader({ request }: Route.LoaderArgs) {
  const api = await requireApi(request);
  const [me, accounts] = await Promise.all([api.get<{ account: Account; roles: string[] }>('/cooperative/me'), api.get<Account[]>('/cooperative/accounts')]);
  const asked = new URL(request.url).searchParams.get('account');
  const shown = accounts.find((account) => account.reference === asked) ?? me.account;
  const [statement, listed, reputation] = await Promise.all([
    api.get<{ account: Account; lines: StatementLine[] }>(`/cooperative/accounts/${encodeURIComponent(shown.reference)}/statement`),
    api.get<ProposalItem[]>('/cooperative/proposals?limit=20'),
    shown.kind === 'issuance' ? Promise.resolve(null) : api.get<ReputationItem>(`/cooperative/accounts/${encodeURIComponent(shown.reference)}/reputation`),
  ]);
  // Open proposals with their votes, so the page shows the member's own.
  const proposals = await Promise.all(listed.map((proposal) => (proposal.status === 'voting' ? api.get<ProposalItem>(`/cooperative/proposals/${proposal.id}`) : proposal)));
  // One key per form shown: a form sent twice (a double click, a resubmitted page) moves credits once.
  return data({ me, accounts, statement, proposals, reputation, email: api.email, transferKey: crypto.randomUUID() }, { headers: api.headers });
}

export async function action({ request }: Route.ActionArgs) {
  const api = await requireApi(request);
  const form = await request.formData();
  const field = (name: string) => String(form.get(name) ?? '').trim();
  if (field('intent') === 'vote') {
    try {
      await api.send('POST', `/cooperative/proposals/${encodeURIComponent(field('proposal'))}/votes`, { vote: field('vote'), reason: field('reason') });
      return data<Answer>({ voted: true }, { headers: api.headers });
    } catch (error) {
      if (!(error instanceof ApiProblem)) throw error;
      return data<Answer>({ error: problemMessage(error.problem) }, { status: error.problem.status, headers: api.headers });
    }
  }
  const amount = Number(field('amount'));
  if (!Number.isSafeInteger(amount) || amount < 1) return data<Answer>({ error: 'amount' }, { status: 400, headers: api.headers });
  try {
    const result = await api.send<{ status: 'applied' | 'refused'; amount: number; reason?: string; replayed: boolean }>(
      'POST',
      '/cooperative/transfers',
      { from: field('from'), to: field('to'), amount, ...(field('memo') ? { memo: field('memo') } : {}) },
      { 'idempotency-key': field('key') },
    );
    return data<Answer>(result, { headers: api.headers });
  } catch (error) {
    if (!(error instanceof ApiProblem)) throw error;
    return data<Answer>({ error: problemMessage(error.problem) }, { status: error.problem.status, headers: api.headers });
  }
}

function BalanceChart({ lines }: { lines: StatementLine[] }) {
  const t = useT();
  const width = 640;
  const height = 160;
  const pad = 30;
  const highest = Math.max(1, ...lines.map((line) => line.balanceAfter));
  const x = (index: number) => pad + (lines.length === 1 ? 0 : (index * (width - 2 * pad)) / (lines.length - 1));
  const y = (balance: number) => height - pad - (balance * (height - 2 * pad)) / highest;
  const points = lines.map((line, index) => `${x(index)},${y(line.balanceAfter)}`).join(' ');
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={t('cooperative.chartLabel')} data-testid="balance-chart">
        <text x={4} y={y(highest) + 4} className="axis">
          {highest}
        </text>
        <text x={4} y={y(0) + 4} className="axis">
          0
        </text>
        <polyline points={points} fill="none" stroke="currentColor" strokeWidth={2} className="bar-succeeded" />
        {lines.map((line, index) => (
          <circle key={line.entryId} cx={x(index)} cy={y(line.balanceAfter)} r={3} className="bar-succeeded">
            <title>{line.balanceAfter}</title>
          </circle>
        ))}
      </svg>
    </figure>
  );
}

export default function Cooperative({ loaderData, actionData }: Route.ComponentProps) {
  const t = useT();
  const language = useLanguage();
  const navigation = useNavigation();
  const { me, accounts, statement, proposals, reputation, email, transferKey } = loaderData;
  const answer = actionData as Answer | undefined;
  const treasurer = me.roles.includes('treasurer');
  const sources = treasurer ? accounts : [me.account];
  const targets = accounts.filter((account) => account.kind !== 'issuance');
  return (
    <section className="cooperative-page">
      <h1>{t('cooperative.title')}</h1>
      <p className="muted">{t('cooperative.intro')}</p>

      <h2>{t('cooperative.yourAccount')}</h2>
      <p data-testid="own-balance">
        {me.account.reference}: <strong>{t('cooperative.credits', { amount: me.account.balance })}</strong>
      </p>
      <p className="small muted">
        {t('cooperative.roles')}: {me.roles.map((role) => t(`cooperative.role.${role}` as MessageKey)).join(', ')}
      </p>

      <h2>{t('cooperative.transfer')}</h2>
      {answer && 'error' in answer ? (
        <p className="error" role="alert">
          {answer.error}
        </p>
      ) : answer && 'voted' in answer ? (
        <p className="notice" role="status" data-testid="vote-answer">
          {t('cooperative.voted')}
        </p>
      ) : answer ? (
        <p className={answer.status === 'applied' ? 'notice' : 'error'} role="status" data-testid="transfer-answer">
          {answer.replayed ? t('cooperative.replayed') : answer.status === 'applied' ? t('cooperative.applied', { amount: answer.amount }) : t('cooperative.refused', { reason: answer.reason ?? '' })}
        </p>
      ) : null}
      <Form method="post" className="inline-form" key={transferKey}>
        <input type="hidden" name="key" value={transferKey} />
        <label>
          {t('cooperative.from')}
          <select name="from" defaultValue={me.account.reference}>
            {sources.map((account) => (
              <option key={account.id} value={account.reference}>
                {account.reference}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('cooperative.to')}
          <select name="to">
            {targets
              .filter((account) => account.id !== me.account.id)
              .map((account) => (
                <option key={account.id} value={account.reference}>
                  {account.reference}
                </option>
              ))}
          </select>
        </label>
        <label>
          {t('cooperative.amount')}
          <input name="amount" type="number" min={1} step={1} required />
        </label>
        <label>
          {t('cooperative.memo')}
          <input name="memo" maxLength={500} />
        </label>
        <button type="submit" disabled={navigation.state !== 'idle'}>
          {t('cooperative.send')}
        </button>
      </Form>

      <h2>{t('cooperative.proposals')}</h2>
      <ProposalsPanel proposals={proposals} me={email} />

      <h2>{t('cooperative.accounts')}</h2>
      <table className="table" data-testid="accounts">
        <thead>
          <tr>
            <th>{t('cooperative.account')}</th>
            <th>{t('cooperative.kind')}</th>
            <th>{t('cooperative.balance')}</th>
          </tr>
        </thead>
        <tbody>
          {accounts.map((account) => (
            <tr key={account.id}>
              <td>
                <Link to={`?${new URLSearchParams({ account: account.reference })}`}>{account.reference}</Link>
              </td>
              <td>{t(`cooperative.kind.${account.kind}` as MessageKey)}</td>
              <td>{account.balance}</td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2>{t('cooperative.statement', { account: statement.account.reference })}</h2>
      <p>
        <a href={`/cooperative/statement.csv?${new URLSearchParams({ account: statement.account.reference })}`} download>
          {t('cooperative.downloadCsv')}
        </a>
      </p>
      {statement.lines.length === 0 ? (
        <p className="muted">{t('cooperative.noEntries')}</p>
      ) : (
        <>
          <BalanceChart lines={statement.lines} />
          <table className="table" data-testid="statement">
            <thead>
              <tr>
                <th>{t('cooperative.at')}</th>
                <th>{t('cooperative.counterparty')}</th>
                <th>{t('cooperative.memo')}</th>
                <th>{t('cooperative.amount')}</th>
                <th>{t('cooperative.balanceAfter')}</th>
              </tr>
            </thead>
            <tbody>
              {statement.lines.map((line) => (
                <tr key={line.entryId}>
                  <td>{formatDateTime(language, line.at)}</td>
                  <td>{line.counterparty}</td>
                  <td>{line.memo}</td>
                  <td>{line.amount}</td>
                  <td>{line.balanceAfter}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {reputation ? (
        <>
          <h2>{t('cooperative.reputation')}</h2>
          <ReputationPanel reputation={reputation} />
        </>
      ) : null}
    </section>
  );
}
