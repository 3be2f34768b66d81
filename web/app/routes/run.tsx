// One run: header, step timeline, approvals, live logs and recovery actions.
import { useEffect, useState } from 'react';
import { data, Form, Link, redirect, useFetcher, useNavigation, useRevalidator, useSearchParams } from 'react-router';
import type { Route } from './+types/run.js';
import { formatDateTime, formatDuration, useLanguage, useT, type Translate } from '../i18n/index.js';
import { DiagnoseButton, DiagnosisPanel } from '../lib/ai-diagnosis.js';
import { FleetPanel } from '../lib/fleet-panel.js';
import { parseLineRange } from '../lib/ai-types.js';
import { approvalBlockerText } from '../lib/approval-blocker.js';
import { ApiProblem, decideStep, requireApi } from '../lib/api.server.js';
import { LogViewer, useLiveLog } from '../lib/live-log.js';
import { rolesIn, useShell } from '../lib/shell-data.js';
import { StatusBadge } from '../lib/status.js';
import { VirtualList } from '../lib/virtual-list.js';
import { formatBytes, type ArtifactEntry } from '../../../artifacts/artifact-contract.js';
import type { RunDetails } from '../../../runs/run-contract.js';
import type { TimelineEntry } from '../../../runs/timeline.js';
import { approvalBlocker } from '../../../workflows/approval-rule.js';
import type { StepProgress } from '../../../workflows/messages.js';

/** Each step's timeline entry (compensations aside). */
function timelineByStep(timeline: TimelineEntry[]): Map<string, TimelineEntry> {
  return new Map(timeline.filter((entry) => entry.kind !== 'compensation').map((entry) => [entry.stepId, entry]));
}


/** What the run's steps published, each downloaded through the web server with the user's own session. */
function ArtifactList({ runId, artifacts, t }: { runId: string; artifacts: ArtifactEntry[]; t: Translate }) {
  if (artifacts.length === 0) return <p className="muted">{t('run.artifactsNone')}</p>;
  return (
    <table className="table" data-testid="run-artifacts">
      <thead>
        <tr>
          <th scope="col">{t('run.artifactName')}</th>
          <th scope="col">{t('run.artifactStep')}</th>
          <th scope="col">{t('run.artifactSize')}</th>
          <th scope="col">SHA-256</th>
          <th scope="col">
            <span className="sr-only">{t('run.artifactDownload')}</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {artifacts.map((artifact) => (
          <tr key={artifact.id}>
            <td className="mono">{artifact.name}</td>
            <td className="mono">
              {artifact.stepId}#{artifact.attempt}
            </td>
            <td>{formatBytes(artifact.size)}</td>
            <td className="mono" title={artifact.sha256}>
              {artifact.sha256.slice(0, 12)}
            </td>
            <td>
              <a href={`/runs/${encodeURIComponent(runId)}/artifacts/${encodeURIComponent(artifact.id)}`} download>
                {t('run.artifactDownload')}
              </a>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A held run: no retention purge removes it (api/routes/retention.ts). */
interface RunHold {
  reason: string;
  heldBy: string;
  heldAt: string;
}

type InputsAnswer = { runbook: string; inputs: Record<string, unknown> } | { error: string };

export async function loader({ request, params }: Route.LoaderArgs) {
  const api = await requireApi(request);
  const id = encodeURIComponent(params.id ?? '');
  // The history-based timeline and the inputs load after the page shows (a long run's history is large).
  const [run, artifacts] = await Promise.all([api.get<RunDetails & { hold?: RunHold | null }>(`/runs/${id}`), api.get<ArtifactEntry[]>(`/runs/${id}/artifacts`)]);
  return data({ run, artifacts }, { headers: api.headers });
}

export async function action({ request, params }: Route.ActionArgs) {
  const api = await requireApi(request);
  const id = encodeURIComponent(params.id ?? '');
  const form = await request.formData();
  const intent = String(form.get('intent') ?? '');
  try {
    switch (intent) {
      case 'approve':
      case 'reject':
        await decideStep(api, params.id ?? '', form, intent);
        return data({ ok: intent, error: undefined as string | undefined }, { headers: api.headers });
      case 'cancel':
        await api.send('POST', `/runs/${id}/cancel`);
        return data({ ok: intent, error: undefined as string | undefined }, { headers: api.headers });
      case 'rerun':
      case 'rerun-failed': {
        const started = await api.send<{ id: string }>('POST', `/runs/${id}/rerun`, intent === 'rerun-failed' ? { targets: 'failed' } : undefined);
        return redirect(`/runs/${encodeURIComponent(started.id)}`, { headers: api.headers });
      }
      case 'resume':
        await api.send('POST', `/runs/${id}/resume`);
        return data({ ok: intent, error: undefined as string | undefined }, { headers: api.headers });
      case 'hold':
        await api.send('POST', `/runs/${id}/hold`, { reason: String(form.get('reason') ?? '').trim() });
        return data({ ok: intent, error: undefined as string | undefined }, { headers: api.headers });
      case 'release':
        await api.send('DELETE', `/runs/${id}/hold`);
        return data({ ok: intent, error: undefined as string | undefined }, { headers: api.headers });
      default:
        return data({ ok: undefined, error: `unknown action "${intent}"` }, { status: 400, headers: api.headers });
    }
  } catch (error) {
    if (!(error instanceof ApiProblem)) throw error;
    return data({ ok: undefined, error: error.problem.detail ?? error.problem.title ?? String(error.problem.status) }, { status: error.problem.status, headers: api.headers });
  }
}

function Gantt({ steps, timeline, t, runStart, runEnd, citedStep }: { steps: StepProgress[]; timeline: TimelineEntry[]; t: Translate; runStart: number; runEnd: number; citedStep?: string | undefined }) {
  const span = Math.max(runEnd - runStart, 1);
  const byStep = timelineByStep(timeline);
  const citedIndex = citedStep ? steps.findIndex((step) => step.id === citedStep) : -1;
  return (
    <VirtualList
      items={steps}
      rowHeight={34}
      maxHeight={420}
      label={t('run.timeline')}
      className="gantt"
      scrollToIndex={citedIndex >= 0 ? citedIndex : undefined}
      renderRow={(step) => {
        const start = step.startedAt ? Date.parse(step.startedAt) : undefined;
        const end = step.endedAt ? Date.parse(step.endedAt) : start !== undefined ? runEnd : undefined;
        const entry = byStep.get(step.id);
        const retried = (entry?.attempts ?? step.attempts) > 1;
        return (
          <div className={`gantt-row ${step.group ? 'in-group' : ''} ${step.id === citedStep ? 'cited' : ''}`} data-step={step.id}>
            <span className="gantt-label mono" title={step.title ?? step.id}>
              {step.id}
            </span>
            <span className="gantt-track">
              {start !== undefined && end !== undefined ? (
                <span
                  className={`gantt-bar status-${step.status}`}
                  style={{ left: `${((start - runStart) / span) * 100}%`, width: `${Math.max(((end - start) / span) * 100, 0.5)}%` }}
                />
              ) : null}
            </span>
            <span className="gantt-meta">
              <StatusBadge status={step.status} t={t} />
              {start !== undefined && end !== undefined ? <span className="muted"> {formatDuration(end - start)}</span> : null}
              {step.attempts > 0 ? <span className={retried ? 'retried' : 'muted'}> · {t('run.attempts', { count: entry?.attempts ?? step.attempts })}</span> : null}
            </span>
          </div>
        );
      }}
    />
  );
}

function ApprovalPanel({ step, run, t }: { step: StepProgress; run: RunDetails; t: Translate }) {
  const shell = useShell();
  const navigation = useNavigation();
  const approval = step.approval!;
  const environment = run.environment ?? '';
  const blocker = approvalBlocker({ user: shell.me.email, roles: rolesIn(shell.me, environment), startedBy: run.startedBy, step, decision: 'approve', now: Date.now() });
  const blocked = blocker ? approvalBlockerText(blocker.reason, t, { role: approval.role, environment }) : undefined;
  const hintId = `approval-hint-${step.id}`;
  return (
    <section className="approval-panel glass" aria-labelledby={`approval-${step.id}`}>
      <h3 id={`approval-${step.id}`}>{t('approval.waiting', { step: step.title ?? step.id })}</h3>
      <p className="muted">
        {t('approval.needs', { count: approval.required, role: approval.role })} · {t('approval.given', { count: approval.approvedBy.length })}
        {approval.deadline ? ` · ${t('approval.deadline', { time: formatDateTime('en', approval.deadline) })}` : ''}
      </p>
      <Form method="post" className="approval-form">
        <input type="hidden" name="step" value={step.id} />
        <label htmlFor={`comment-${step.id}`}>{t('approval.comment')}</label>
        <textarea id={`comment-${step.id}`} name="comment" rows={2} disabled={Boolean(blocked)} />
        {blocked ? (
          <p className="notice" id={hintId}>
            {blocked}
          </p>
        ) : null}
        <div className="actions">
          <button type="submit" name="intent" value="approve" className="primary" disabled={Boolean(blocked) || navigation.state !== 'idle'} aria-describedby={blocked ? hintId : undefined}>
            {t('approval.approve')}
          </button>
          <button type="submit" name="intent" value="reject" className="danger" disabled={Boolean(blocked) || navigation.state !== 'idle'} aria-describedby={blocked ? hintId : undefined}>
            {t('approval.reject')}
          </button>
        </div>
      </Form>
    </section>
  );
}

function StepDetails({ steps, timeline, t }: { steps: StepProgress[]; timeline: TimelineEntry[]; t: Translate }) {
  const byStep = timelineByStep(timeline);
  return (
    <VirtualList
      items={steps}
      rowHeight={64}
      maxHeight={480}
      label={t('run.stepDetails')}
      className="step-table"
      renderRow={(step) => {
        const entry = byStep.get(step.id);
        return (
          <div className="step-row">
            <span className="mono">{step.id}</span>
            <StatusBadge status={step.status} t={t} />
            <span className="mono small clip" title={entry?.input}>
              <span className="muted">{t('run.input')}: </span>
              {entry?.input ?? '—'}
            </span>
            <span className="mono small clip" title={entry?.output ?? step.outputSummary}>
              <span className="muted">{t('run.output')}: </span>
              {entry?.output ?? step.outputSummary ?? '—'}
            </span>
            <span className="small clip error-text">{step.error ?? entry?.failure ?? ''}</span>
          </div>
        );
      }}
    />
  );
}

function InputsComparison({ mine, other, t, onCompare, defaultOther }: { mine?: InputsAnswer; other?: InputsAnswer; t: Translate; onCompare: (id: string) => void; defaultOther?: string }) {
  const [otherId, setOtherId] = useState(defaultOther ?? '');
  if (!mine) return <p className="muted">…</p>;
  if ('error' in mine) return <p className="error">{mine.error}</p>;
  const otherInputs = other && !('error' in other) ? other.inputs : undefined;
  const names = [...new Set([...Object.keys(mine.inputs), ...Object.keys(otherInputs ?? {})])].sort();
  const show = (value: unknown) => (value === undefined ? '—' : typeof value === 'string' ? value : JSON.stringify(value));
  return (
    <div>
      <form
        className="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          if (otherId.trim()) onCompare(otherId.trim());
        }}
      >
        <label htmlFor="compare-run">{t('run.compareWith')}</label>
        <input id="compare-run" value={otherId} onChange={(event) => setOtherId(event.target.value)} className="mono" />
        <button type="submit">{t('run.compare')}</button>
      </form>
      {other && 'error' in other ? <p className="error">{other.error}</p> : null}
      <table className="table diff">
        <thead>
          <tr>
            <th scope="col">{t('run.input')}</th>
            <th scope="col">{t('run.thisRun')}</th>
            {otherInputs ? <th scope="col">{t('run.otherRun')}</th> : null}
          </tr>
        </thead>
        <tbody>
          {names.map((name) => {
            const changed = otherInputs !== undefined && show(mine.inputs[name]) !== show(otherInputs[name]);
            return (
              <tr key={name} className={changed ? 'changed' : undefined}>
                <td className="mono">{name}</td>
                <td className="mono">{show(mine.inputs[name])}</td>
                {otherInputs ? <td className="mono">{show(otherInputs[name])}</td> : null}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export default function RunPage({ loaderData, actionData: answer }: Route.ComponentProps) {
  const t = useT();
  const language = useLanguage();
  const shell = useShell();
  const { run: loaded, artifacts } = loaderData;
  const timelineFetcher = useFetcher<TimelineEntry[]>();
  const inputsFetcher = useFetcher<InputsAnswer>();
  const compareFetcher = useFetcher<InputsAnswer>();
  const [showDetails, setShowDetails] = useState(false);
  const timeline = timelineFetcher.data ?? [];
  const revalidator = useRevalidator();
  // A citation's address: /runs/:id?step=X&lines=FROM-TO opens the run at those log lines.
  const [searchParams] = useSearchParams();
  const citedStep = searchParams.get('step') ?? undefined;
  const citedLines = parseLineRange(searchParams.get('lines'));
  const [live, setLive] = useState<{ status?: string; progress?: RunDetails['progress'] } | undefined>();
  const status = live?.status ?? loaded.status;
  const progress = live?.progress ?? loaded.progress;
  const { lines, connected } = useLiveLog(loaded.id, (message) => {
    const next = message as { status?: string; progress?: RunDetails['progress'] };
    setLive((current) => {
      // A run that just ended: reload the page's data (timeline, actions).
      if (current?.status && current.status !== next.status && revalidator.state === 'idle') void revalidator.revalidate();
      return next;
    });
  });
  const steps = progress?.steps ?? [];
  // Reload the history-based parts whenever the run's status changes.
  const timelineUrl = `/runs/${encodeURIComponent(loaded.id)}/timeline.json`;
  useEffect(() => {
    void timelineFetcher.load(timelineUrl);
  }, [timelineUrl, status, loaded.runId]);
  useEffect(() => {
    void inputsFetcher.load(`/runs/${encodeURIComponent(loaded.id)}/inputs.json`);
  }, [loaded.id]);
  const runStart = Date.parse(loaded.startedAt);
  const runEnd = loaded.closedAt ? Date.parse(loaded.closedAt) : Date.now();
  const roles = rolesIn(shell.me, loaded.environment ?? '');
  const mayOperate = roles.includes('operator') || roles.includes('admin');
  const failed = status === 'FAILED';
  const running = status === 'RUNNING';
  const waiting = steps.filter((step) => step.status === 'waiting' && step.approval);
  const failedStep = steps.find((step) => step.status === 'failed');
  const fleetSteps = steps.filter((step) => step.fleet);
  const failedTargets = fleetSteps.some((step) => (step.fleet?.counts.failed ?? 0) > 0);
  const temporalLink = `${shell.temporalUiUrl}/namespaces/${encodeURIComponent(shell.namespace)}/workflows/${encodeURIComponent(loaded.id)}`;
  return (
    <section className="run-page">
      <header className="run-header">
        <div>
          <h1>
            {loaded.runbook} <StatusBadge status={status} t={t} />
            {loaded.hold ? (
              <span className="status status-held" data-testid="held-badge" title={t('run.heldBy', { who: loaded.hold.heldBy, time: formatDateTime(language, loaded.hold.heldAt), reason: loaded.hold.reason })}>
                {t('run.held')}
              </span>
            ) : null}
          </h1>
          <p className="muted mono" data-testid="run-id">
            {loaded.id}
          </p>
          <dl className="facts">
            <dt>{t('run.environment')}</dt>
            <dd>{loaded.environment}</dd>
            <dt>{t('run.startedBy')}</dt>
            <dd>{loaded.startedBy}</dd>
            <dt>{t('run.startedAt')}</dt>
            <dd>{formatDateTime(language, loaded.startedAt)}</dd>
            <dt>{t('run.duration')}</dt>
            <dd suppressHydrationWarning>{formatDuration(runEnd - runStart)}</dd>
            {loaded.rerunOf ? (
              <>
                <dt>{t('run.rerunOf')}</dt>
                <dd>
                  <Link to={`/runs/${encodeURIComponent(loaded.rerunOf)}`}>{loaded.rerunOf}</Link>
                </dd>
              </>
            ) : null}
          </dl>
        </div>
        <div className="run-actions">
          <Form method="post" className="actions">
            {mayOperate && running ? (
              <button type="submit" name="intent" value="cancel" className="danger">
                {t('run.cancel')}
              </button>
            ) : null}
            {mayOperate && failed && failedStep?.kind === 'action' ? (
              <button type="submit" name="intent" value="resume" className="primary">
                {t('run.resume')}
              </button>
            ) : null}
            {mayOperate && !running ? (
              <button type="submit" name="intent" value="rerun">
                {t('run.rerun')}
              </button>
            ) : null}
            {mayOperate && !running && failedTargets ? (
              <button type="submit" name="intent" value="rerun-failed">
                {t('fleet.rerunFailed')}
              </button>
            ) : null}
            {mayOperate && loaded.hold ? (
              <button type="submit" name="intent" value="release">
                {t('run.release')}
              </button>
            ) : null}
          </Form>
          {mayOperate && !loaded.hold ? (
            <Form method="post" className="inline-form">
              <input type="hidden" name="intent" value="hold" />
              <label htmlFor="hold-reason">{t('run.holdReason')}</label>
              <input id="hold-reason" name="reason" required maxLength={1000} />
              <button type="submit">{t('run.hold')}</button>
            </Form>
          ) : null}
          {failed && roles.length > 0 ? <DiagnoseButton runId={loaded.id} t={t} /> : null}
          <a href={`/runs/${encodeURIComponent(loaded.id)}/history.json`} download>
            {t('run.downloadHistory')}
          </a>
          <a href={temporalLink} target="_blank" rel="noreferrer">
            {t('run.openInTemporal')}
          </a>
        </div>
      </header>
      {answer?.error ? (
        <p className="error" role="alert">
          {answer.error}
        </p>
      ) : null}
      {answer?.ok === 'resume' ? <p className="notice" role="status">{t('run.resumed')}</p> : null}
      {answer?.ok === 'hold' ? <p className="notice" role="status">{t('run.holdDone')}</p> : null}
      {answer?.ok === 'release' ? <p className="notice" role="status">{t('run.releaseDone')}</p> : null}
      {loaded.hold ? (
        <p className="notice" data-testid="hold-notice">
          {t('run.heldBy', { who: loaded.hold.heldBy, time: formatDateTime(language, loaded.hold.heldAt), reason: loaded.hold.reason })}
        </p>
      ) : null}
      {loaded.error || (progress && 'error' in progress) ? <p className="error">{loaded.error ?? String((progress as { error?: string }).error ?? '')}</p> : null}
      {failed ? <DiagnosisPanel runId={loaded.id} environment={loaded.environment ?? ''} t={t} /> : null}
      {waiting.map((step) => (
        <ApprovalPanel key={step.id} step={step} run={loaded} t={t} />
      ))}
      {fleetSteps.map((step) => (
        <FleetPanel key={step.id} runId={loaded.id} step={step} fleet={step.fleet!} t={t} />
      ))}
      <h2>{t('run.timeline')}</h2>
      <Gantt steps={steps} timeline={timeline} t={t} runStart={runStart} runEnd={runEnd} citedStep={citedStep} />
      <details className="step-details" onToggle={(event) => setShowDetails(event.currentTarget.open)}>
        <summary>{t('run.stepDetails')}</summary>
        {showDetails ? <StepDetails steps={steps} timeline={timeline} t={t} /> : null}
      </details>
      <details className="step-details">
        <summary>{t('run.inputs')}</summary>
        <InputsComparison mine={inputsFetcher.data} other={compareFetcher.data} t={t} onCompare={(otherId) => void compareFetcher.load(`/runs/${encodeURIComponent(otherId)}/inputs.json`)} defaultOther={loaded.rerunOf} />
      </details>
      <h2 id="artifacts">{t('run.artifacts')}</h2>
      <ArtifactList runId={loaded.id} artifacts={artifacts} t={t} />
      <h2 id="logs">{t('logs.title')}</h2>
      <LogViewer
        key={`${citedStep ?? ''}:${searchParams.get('lines') ?? ''}`}
        lines={lines}
        connected={connected}
        steps={steps.map((step) => step.id)}
        t={t}
        runId={loaded.id}
        highlight={citedStep || citedLines ? { step: citedStep, lines: citedLines } : undefined}
      />
    </section>
  );
}
