// Parts of the Cooperative page: proposals with their voting forms, and a
// reputation with its components and its week's trend.
import { Form } from 'react-router';
import { formatDateTime, useLanguage, useT, type MessageKey } from '../i18n/index.js';

export interface ProposalItem {
  id: string;
  title: string;
  text: string;
  status: 'voting' | 'accepted' | 'rejected';
  proposedBy: string;
  closesAt: string;
  tally: { yes: number; no: number; abstain: number } | null;
  votes?: Array<{ email: string; vote: 'yes' | 'no' | 'abstain' }>;
}

export interface ReputationItem {
  account: { reference: string };
  score: number;
  components: Record<string, number>;
  trend: { points: Array<{ at: string; score: number }>; change: number };
}

const VOTES = ['yes', 'no', 'abstain'] as const;

export function ProposalsPanel({ proposals, me }: { proposals: ProposalItem[]; me: string }) {
  const t = useT();
  const language = useLanguage();
  if (proposals.length === 0) return <p className="muted">{t('cooperative.noProposals')}</p>;
  return (
    <ul className="proposals" data-testid="proposals">
      {proposals.map((proposal) => {
        const mine = proposal.votes?.find((vote) => vote.email === me)?.vote;
        return (
          <li key={proposal.id} data-testid={`proposal-${proposal.id}`}>
            <h3>
              {proposal.title} <span className="badge">{t(`cooperative.proposalStatus.${proposal.status}` as MessageKey)}</span>
            </h3>
            <p>{proposal.text}</p>
            <p className="small muted">
              {proposal.proposedBy} · {t('cooperative.closes', { time: formatDateTime(language, proposal.closesAt) })}
              {proposal.tally ? ` · ${t('cooperative.tally', { yes: proposal.tally.yes, no: proposal.tally.no, abstain: proposal.tally.abstain })}` : ''}
            </p>
            {mine ? <p className="small">{t('cooperative.yourVote', { vote: t(`cooperative.vote.${mine}` as MessageKey) })}</p> : null}
            {proposal.status === 'voting' ? (
              <Form method="post" className="inline-form">
                <input type="hidden" name="intent" value="vote" />
                <input type="hidden" name="proposal" value={proposal.id} />
                <fieldset>
                  {VOTES.map((vote) => (
                    <label key={vote}>
                      <input type="radio" name="vote" value={vote} defaultChecked={(mine ?? 'yes') === vote} /> {t(`cooperative.vote.${vote}` as MessageKey)}
                    </label>
                  ))}
                </fieldset>
                <label>
                  {t('cooperative.reason')}
                  <input name="reason" maxLength={2000} />
                </label>
                <button type="submit">{t('cooperative.castVote')}</button>
              </Form>
            ) : null}
          </li>
        );
      })}
    </ul>
  );
}

export function ReputationPanel({ reputation }: { reputation: ReputationItem }) {
  const t = useT();
  const width = 640;
  const height = 120;
  const pad = 24;
  const points = reputation.trend.points;
  const x = (index: number) => pad + (index * (width - 2 * pad)) / Math.max(1, points.length - 1);
  const y = (score: number) => height - pad - (score * (height - 2 * pad)) / 100;
  return (
    <div data-testid="reputation">
      <p>{t('cooperative.reputationOf', { account: reputation.account.reference, score: reputation.score })}</p>
      <figure className="chart">
        <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={t('cooperative.trendLabel')} data-testid="reputation-trend">
          <text x={2} y={y(100) + 4} className="axis">
            100
          </text>
          <text x={2} y={y(0) + 4} className="axis">
            0
          </text>
          <polyline points={points.map((point, index) => `${x(index)},${y(point.score)}`).join(' ')} fill="none" stroke="currentColor" strokeWidth={2} className="bar-succeeded" />
          {points.map((point, index) => (
            <circle key={point.at} cx={x(index)} cy={y(point.score)} r={3} className="bar-succeeded">
              <title>{point.score}</title>
            </circle>
          ))}
        </svg>
      </figure>
      <p className="small muted">{t('cooperative.trendChange', { change: `${reputation.trend.change >= 0 ? '+' : ''}${reputation.trend.change}` })}</p>
      <table className="table">
        <thead>
          <tr>
            <th>{t('cooperative.component')}</th>
            <th>{t('cooperative.value')}</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(reputation.components).map(([name, value]) => (
            <tr key={name}>
              <td>{t(`cooperative.component.${name}` as MessageKey)}</td>
              <td>{value}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
