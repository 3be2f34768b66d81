// A proposed remediation: its steps (action, arguments, risk), the overall
// risk, its errors when invalid, and "Submit for approval" (disabled with the
// reason when it can't be submitted).
import { Form, Link, useNavigation } from 'react-router';
import type { Translate } from '../i18n/index.js';
import { RiskBadge } from './ai-answer.js';
import type { Plan, PlanStep } from './ai-types.js';
import { TableHead } from './table-head.js';

function approvalText(step: PlanStep, t: Translate): string {
  const approval = typeof step.approval === 'object' ? step.approval : {};
  return t('ai.plan.approvalStep', { role: approval.role ?? 'approver' });
}

export function PlanView({ plan, mayOperate, submitErrors, t }: { plan: Plan; mayOperate: boolean; submitErrors?: Array<{ path: string; message: string }> | undefined; t: Translate }) {
  const navigation = useNavigation();
  const steps = plan.manifest.steps ?? [];
  const stepRisk = new Map(plan.risk.steps.map((entry) => [entry.id, entry.risk]));
  const submitted = plan.status !== 'proposed';
  const errors = submitErrors && submitErrors.length > 0 ? submitErrors : plan.errors;
  let blocked: string | undefined;
  if (!plan.valid) blocked = t('ai.plan.blockedInvalid');
  else if (submitted) blocked = t('ai.plan.blockedSubmitted');
  else if (!mayOperate) blocked = t('ai.plan.blockedRole', { environment: plan.environment });
  return (
    <article className="plan-view" aria-labelledby="plan-title" data-testid="plan-view">
      <h3 id="plan-title">{plan.manifest.title ?? plan.manifest.name ?? plan.goal}</h3>
      <dl className="facts">
        {plan.manifest.title !== plan.goal ? (
          <>
            <dt>{t('ai.plan.goal')}</dt>
            <dd>{plan.goal}</dd>
          </>
        ) : null}
        <dt>{t('ai.plan.risk')}</dt>
        <dd data-testid="plan-risk">
          <RiskBadge level={plan.risk.level} t={t} /> <span className="muted small">{t('ai.plan.score', { score: plan.risk.score })}</span>
        </dd>
        <dt>{t('ai.plan.source')}</dt>
        <dd>{plan.source === 'past-resolutions' ? t('ai.plan.fromResolutions') : t('ai.plan.fromModel', { model: plan.model ?? '—' })}</dd>
        <dt>{t('ai.plan.status')}</dt>
        <dd data-testid="plan-status">
          {plan.valid ? t('ai.plan.valid') : t('ai.plan.invalid')} · {t(`ai.plan.state.${plan.status}`)}
        </dd>
      </dl>
      <table className="table plan-steps">
        <caption className="sr-only">{t('ai.plan.steps')}</caption>
        <TableHead columns={[t('ai.plan.step'), t('ai.plan.action'), t('ai.plan.arguments'), t('ai.plan.stepRisk')]} />
        <tbody>
          {steps.map((step) => {
            const risk = stepRisk.get(step.id);
            return (
              <tr key={step.id} data-step={step.id}>
                <td>
                  <span className="mono">{step.id}</span>
                  {step.title ? <span className="muted small"> · {step.title}</span> : null}
                </td>
                <td className="mono">{step.action ?? (step.approval ? approvalText(step, t) : '—')}</td>
                <td className="mono small plan-args">
                  {step.with && Object.keys(step.with).length > 0
                    ? Object.entries(step.with).map(([name, value]) => (
                        <div key={name}>
                          <span className="muted">{name}:</span> {typeof value === 'string' ? value : JSON.stringify(value)}
                        </div>
                      ))
                    : '—'}
                </td>
                <td>{risk ? <RiskBadge level={risk} t={t} /> : <span className="muted">—</span>}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {errors.length > 0 ? (
        <div className="error plan-errors" role="alert">
          <h4>{t('ai.plan.errors', { count: errors.length })}</h4>
          <ul>
            {errors.map((error, index) => (
              <li key={index}>
                <code>{error.path || '/'}</code>: {error.message}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {plan.submittedRunId ? (
        <p className="notice" role="status">
          {t('ai.plan.submittedAs')} <Link to={`/runs/${encodeURIComponent(plan.submittedRunId)}`}>{plan.submittedRunId}</Link>
        </p>
      ) : null}
      <Form method="post" className="actions">
        <input type="hidden" name="planId" value={plan.id} />
        <button type="submit" name="intent" value="submit" className="primary" disabled={Boolean(blocked) || navigation.state !== 'idle'} aria-describedby={blocked ? 'plan-blocked' : 'plan-submit-help'}>
          {t('ai.plan.submit')}
        </button>
        {blocked ? (
          <p className="notice" id="plan-blocked">
            {blocked}
          </p>
        ) : (
          <p className="muted small" id="plan-submit-help">
            {t('ai.plan.submitHelp')}
          </p>
        )}
      </Form>
    </article>
  );
}
