import { useEffect, useState } from 'react';
import { data, Form, Link, useRevalidator } from 'react-router';
import type { Route } from './+types/approvals.js';
import type { ApprovalBlockerReason } from '../../../workflows/approval-rule.js';
import { formatDateTime, useLanguage, useT } from '../i18n/index.js';
import { approvalBlockerText } from '../lib/approval-blocker.js';
import { ApiProblem, decideStep, requireApi } from '../lib/api.server.js';

interface WaitingApproval {
  runId: string;
  runbook: string;
  environment: string;
  startedBy: string;
  canDecide: boolean;
  blockedBecause?: ApprovalBlockerReason;
  step: { id: string; title?: string; startedAt?: string; approval?: { role: string; required: number; deadline?: string; approvedBy: unknown[] } };
}

export async function loader({ request }: Route.LoaderArgs) {
  const api = await requireApi(request);
  return data({ approvals: await api.get<WaitingApproval[]>('/approvals') }, { headers: api.headers });
}

export async function action({ request }: Route.ActionArgs) {
  const api = await requireApi(request);
  const form = await request.formData();
  try {
    await decideStep(api, String(form.get('run') ?? ''), form, form.get('intent') === 'reject' ? 'reject' : 'approve');
    return data({ error: undefined as string | undefined }, { headers: api.headers });
  } catch (error) {
    if (!(error instanceof ApiProblem)) throw error;
    return data({ error: error.problem.detail ?? String(error.problem.status) }, { status: error.problem.status, headers: api.headers });
  }
}

function Countdown({ deadline }: { deadline: string }) {
  const t = useT();
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, []);
  const left = Math.max(0, Date.parse(deadline) - now);
  const minutes = Math.floor(left / 60_000);
  const seconds = Math.floor((left % 60_000) / 1_000);
  return (
    <span className={left < 5 * 60_000 ? 'countdown urgent' : 'countdown'} suppressHydrationWarning>
      {t('approvals.timeLeft', { time: `${minutes}:${String(seconds).padStart(2, '0')}` })}
    </span>
  );
}

export default function Approvals({ loaderData, actionData: answer }: Route.ComponentProps) {
  const t = useT();
  const language = useLanguage();
  const { approvals } = loaderData;
  const revalidator = useRevalidator();
  // The inbox follows decisions taken elsewhere and new waits.
  useEffect(() => {
    const timer = setInterval(() => {
      if (revalidator.state === 'idle' && document.visibilityState === 'visible') void revalidator.revalidate();
    }, 5_000);
    return () => clearInterval(timer);
  }, [revalidator]);
  return (
    <section>
      <h1>{t('approvals.title')}</h1>
      {answer?.error ? (
        <p className="error" role="alert">
          {answer.error}
        </p>
      ) : null}
      {approvals.length === 0 ? <p className="muted">{t('approvals.none')}</p> : null}
      <ul className="cards">
        {approvals.map((entry) => (
          <li key={`${entry.runId}/${entry.step.id}`} className="card">
            <h2>
              <Link to={`/runs/${encodeURIComponent(entry.runId)}`}>
                {entry.runbook} · {entry.step.title ?? entry.step.id}
              </Link>
            </h2>
            <p className="muted">
              {t('approvals.meta', { environment: entry.environment, user: entry.startedBy, time: formatDateTime(language, entry.step.startedAt) })}
            </p>
            {entry.step.approval?.deadline ? <Countdown deadline={entry.step.approval.deadline} /> : null}
            {entry.canDecide ? (
              <Form method="post" className="approval-form">
                <input type="hidden" name="run" value={entry.runId} />
                <input type="hidden" name="step" value={entry.step.id} />
                <label htmlFor={`comment-${entry.runId}-${entry.step.id}`}>{t('approval.comment')}</label>
                <input id={`comment-${entry.runId}-${entry.step.id}`} name="comment" />
                <div className="actions">
                  <button type="submit" name="intent" value="approve" className="primary">
                    {t('approval.approve')}
                  </button>
                  <button type="submit" name="intent" value="reject" className="danger">
                    {t('approval.reject')}
                  </button>
                </div>
              </Form>
            ) : (
              <p className="notice">{approvalBlockerText(entry.blockedBecause ?? 'role', t, { role: entry.step.approval?.role ?? '', environment: entry.environment })}</p>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
