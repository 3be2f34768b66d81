// AI Ops: a chat with streamed, cited answers; knowledge search; notes and
// incidents (recorded or imported postmortems) added to the knowledge base; and plans (a goal becomes a proposed runbook with its
// risk, submitted to start a run that waits for approval).
import { useState } from 'react';
import { data, Form, Link, redirect, useNavigation } from 'react-router';
import type { Route } from './+types/ai.js';
import { formatDateTime, useLanguage, useT, type MessageKey, type Translate } from '../i18n/index.js';
import { OfflineBanner } from '../lib/ai-answer.js';
import { AiChat } from '../lib/ai-chat.js';
import { DescribeProblem } from '../lib/ai-diagnosis.js';
import { IncidentPanel, parseInputs, type IncidentAnswer } from '../lib/ai-incidents.js';
import { PlanView } from '../lib/ai-plan.js';
import type { Plan, PlanError, SearchHit } from '../lib/ai-types.js';
import { ApiProblem, requireApi } from '../lib/api.server.js';
import { selectedEnvironment } from '../lib/session.server.js';
import { rolesIn, useShell } from '../lib/shell-data.js';
import '../ai.css';

const problemText = (error: ApiProblem) => error.problem.detail ?? error.problem.title ?? String(error.problem.status);

export async function loader({ request }: Route.LoaderArgs) {
  const api = await requireApi(request);
  const url = new URL(request.url);
  const me = await api.get<{ grants: Array<{ environment: string }> }>('/auth/me');
  const { environment } = await selectedEnvironment(request, me.grants);
  const q = url.searchParams.get('q')?.trim() ?? '';
  const planId = url.searchParams.get('plan') ?? '';
  const attempt = async <T,>(load: () => Promise<T>): Promise<{ value?: T; error?: string }> => {
    try {
      return { value: await load() };
    } catch (error) {
      if (!(error instanceof ApiProblem)) throw error;
      return { error: problemText(error) };
    }
  };
  const [search, plan, status] = await Promise.all([
    q && environment ? attempt(() => api.get<{ hits: SearchHit[] }>(`/ai/search?${new URLSearchParams({ q, environment, limit: '20' })}`)) : Promise.resolve(undefined),
    planId ? attempt(() => api.get<Plan>(`/ai/plans/${encodeURIComponent(planId)}`)) : Promise.resolve(undefined),
    environment ? attempt(() => api.get<{ model: string | null }>(`/ai/status?${new URLSearchParams({ environment })}`)) : Promise.resolve(undefined),
  ]);
  return data(
    {
      environment,
      q,
      hits: search?.value?.hits,
      searchError: search?.error,
      plan: plan?.value,
      planError: plan?.error,
      run: url.searchParams.get('run') ?? '',
      goal: url.searchParams.get('goal') ?? '',
      /** The chat model; null when none is configured (answers from retrieval only), undefined when unknown. */
      model: status?.value ? status.value.model : undefined,
    },
    { headers: api.headers },
  );
}

type ActionAnswer = IncidentAnswer & { errors?: PlanError[]; noted?: string };

export async function action({ request }: Route.ActionArgs) {
  const api = await requireApi(request);
  const form = await request.formData();
  const intent = String(form.get('intent') ?? '');
  const field = (name: string) => String(form.get(name) ?? '').trim();
  const answer = (value: ActionAnswer, status = 200) => data(value, { status, headers: api.headers });
  try {
    switch (intent) {
      case 'propose': {
        const runId = field('runId');
        const plan = await api.send<Plan>('POST', '/ai/plans', { environment: field('environment'), goal: field('goal'), ...(runId ? { runId } : {}) });
        const query = new URLSearchParams({ plan: plan.id, ...(runId ? { run: runId } : {}) });
        return redirect(`/ai?${query}#plan`, { headers: api.headers });
      }
      case 'submit': {
        const submitted = await api.send<{ runId: string }>('POST', `/ai/plans/${encodeURIComponent(field('planId'))}/submit`);
        return redirect(`/runs/${encodeURIComponent(submitted.runId)}`, { headers: api.headers });
      }
      case 'note': {
        const runId = field('runId');
        const note = await api.send<{ documentId: string }>('POST', '/ai/notes', { environment: field('environment'), title: field('title'), body: field('body'), ...(runId ? { runId } : {}) });
        return answer({ intent, noted: note.documentId });
      }
      case 'incident': {
        const runbook = field('runbook');
        const occurredAt = field('occurredAt');
        const recorded = await api.send<{ id: string }>('POST', '/ai/incidents', {
          environment: field('environment'),
          title: field('title'),
          ...(occurredAt && !Number.isNaN(Date.parse(occurredAt)) ? { occurredAt: new Date(occurredAt).toISOString() } : {}),
          services: field('services')
            .split(',')
            .map((name) => name.trim())
            .filter(Boolean),
          symptoms: field('symptoms'),
          cause: field('cause'),
          resolution: field('resolution'),
          ...(runbook ? { resolutionRunbook: { name: runbook, inputs: parseInputs(field('inputs')) } } : {}),
        });
        return answer({ intent, recorded: recorded.id });
      }
      case 'import-incidents': {
        const outcome = await api.send<{ imported: unknown[]; errors: NonNullable<IncidentAnswer['refused']> }>('POST', '/ai/incidents/import', {
          environment: field('environment'),
          format: field('format'),
          content: String(form.get('content') ?? ''),
        });
        return answer({ intent, imported: outcome.imported.length, refused: outcome.errors });
      }
      default:
        return answer({ intent, error: `unknown action "${intent}"` }, 400);
    }
  } catch (error) {
    if (!(error instanceof ApiProblem)) throw error;
    return answer({ intent, error: problemText(error), ...(error.problem.errors ? { errors: error.problem.errors } : {}) }, error.problem.status);
  }
}

const KIND_KEYS: Record<string, MessageKey> = {
  incident: 'ai.kind.incident',
  resolution: 'ai.kind.resolution',
  run: 'ai.kind.run',
  runbook: 'ai.kind.runbook',
  note: 'ai.kind.note',
  plan: 'ai.kind.plan',
  failed_run: 'ai.kind.failed_run',
  answer: 'ai.kind.answer',
};
const kindLabel = (kind: string, t: Translate) => (KIND_KEYS[kind] ? t(KIND_KEYS[kind]) : kind);

function SearchPanel({ environment, q, run, hits, error, t }: { environment: string; q: string; run: string; hits: SearchHit[] | undefined; error: string | undefined; t: Translate }) {
  const language = useLanguage();
  return (
    <section className="card" aria-labelledby="search">
      <h2 id="search">{t('ai.search.title')}</h2>
      <Form method="get" className="inline-form" role="search">
        {run ? <input type="hidden" name="run" value={run} /> : null}
        <label htmlFor="ai-search">{t('ai.search.label')}</label>
        <input id="ai-search" type="search" name="q" defaultValue={q} required />
        <button type="submit">{t('ai.search.submit')}</button>
      </Form>
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
      {hits ? (
        hits.length === 0 ? (
          <p className="muted">{t('ai.search.none', { environment })}</p>
        ) : (
          <ol className="search-hits" aria-label={t('ai.search.results', { count: hits.length })} data-testid="search-hits">
            {hits.map((hit) => (
              <li key={hit.documentId}>
                <p>
                  {hit.runId ? <Link to={`/runs/${encodeURIComponent(hit.runId)}`}>{hit.title}</Link> : <strong>{hit.title}</strong>} <span className="tag">{kindLabel(hit.kind, t)}</span>{' '}
                  <span className="muted small">{formatDateTime(language, hit.createdAt)}</span>
                </p>
                <p className="small search-snippet">{hit.snippet}</p>
              </li>
            ))}
          </ol>
        )
      ) : null}
    </section>
  );
}

function NoteForm({ environment, run, answer, mayOperate, t }: { environment: string; run: string; answer: ActionAnswer | undefined; mayOperate: boolean; t: Translate }) {
  const navigation = useNavigation();
  const mine = answer?.intent === 'note' ? answer : undefined;
  return (
    <Form method="post" className="card note-form" aria-labelledby="note">
      <h2 id="note">{t('ai.note.title')}</h2>
      <p className="muted small">{t('ai.note.help')}</p>
      <input type="hidden" name="environment" value={environment} />
      <label htmlFor="note-title">{t('ai.note.name')}</label>
      <input id="note-title" name="title" required maxLength={500} />
      <label htmlFor="note-body">{t('ai.note.body')}</label>
      <textarea id="note-body" name="body" rows={4} required />
      <label htmlFor="note-run">{t('ai.note.run')}</label>
      <input id="note-run" name="runId" defaultValue={run} className="mono" />
      <button type="submit" name="intent" value="note" disabled={navigation.state !== 'idle' || !mayOperate} aria-describedby={mayOperate ? undefined : 'note-blocked'}>
        {t('ai.note.submit')}
      </button>
      {mayOperate ? null : (
        <p className="notice" id="note-blocked">
          {t('ai.note.blockedRole', { environment })}
        </p>
      )}
      {mine?.noted ? (
        <p className="notice" role="status">
          {t('ai.note.added')}
        </p>
      ) : null}
      {mine?.error ? (
        <p className="error" role="alert">
          {mine.error}
        </p>
      ) : null}
    </Form>
  );
}

function PlanPanel({
  environment,
  run,
  goal,
  plan,
  planError,
  answer,
  t,
}: {
  environment: string;
  run: string;
  goal: string;
  plan: Plan | undefined;
  planError: string | undefined;
  answer: ActionAnswer | undefined;
  t: Translate;
}) {
  const navigation = useNavigation();
  const shell = useShell();
  const operates = (name: string) => rolesIn(shell.me, name).some((role) => role === 'operator' || role === 'admin');
  const mayOperate = operates(environment);
  // A plan is submitted in its own environment, whichever one the header selects now.
  const planMayOperate = plan ? operates(plan.environment) : false;
  const proposing = navigation.state !== 'idle' && navigation.formData?.get('intent') === 'propose';
  const failed = answer && (answer.intent === 'propose' || answer.intent === 'submit') ? answer : undefined;
  return (
    <section className="card plan-panel" id="plan" aria-labelledby="plan-heading">
      <h2 id="plan-heading">{t('ai.plan.title')}</h2>
      <p className="muted small">{t('ai.plan.help')}</p>
      <Form method="post" className="plan-form">
        <input type="hidden" name="environment" value={environment} />
        <label htmlFor="plan-goal">{t('ai.plan.goalLabel')}</label>
        <textarea id="plan-goal" name="goal" rows={3} required defaultValue={plan?.goal ?? goal} />
        <label htmlFor="plan-run">{t('ai.plan.run')}</label>
        <input id="plan-run" name="runId" defaultValue={run} className="mono" />
        <button
          type="submit"
          name="intent"
          value="propose"
          className="primary"
          disabled={navigation.state !== 'idle' || !mayOperate}
          aria-describedby={mayOperate ? undefined : 'plan-propose-blocked'}
        >
          {proposing ? t('ai.plan.proposing') : t('ai.plan.propose')}
        </button>
        {mayOperate ? null : (
          <p className="notice" id="plan-propose-blocked">
            {t('ai.plan.blockedRole', { environment })}
          </p>
        )}
      </Form>
      {failed?.error ? (
        <p className="error" role="alert">
          {failed.error}
        </p>
      ) : null}
      {planError ? (
        <p className="error" role="alert">
          {planError}
        </p>
      ) : null}
      {plan ? <PlanView plan={plan} mayOperate={planMayOperate} submitErrors={failed?.intent === 'submit' ? failed.errors : undefined} t={t} /> : null}
    </section>
  );
}

export default function AiOps({ loaderData, actionData: answer }: Route.ComponentProps) {
  const t = useT();
  const shell = useShell();
  const { environment, q, hits, searchError, plan, planError, run, goal, model } = loaderData;
  const roles = rolesIn(shell.me, environment);
  const [chatModel, setChatModel] = useState<string | null | undefined>(model);
  const offline = chatModel === null || plan?.model === null;
  return (
    <section className="ai-page">
      <h1>{t('ai.title')}</h1>
      <p className="muted">{t('ai.intro', { environment })}</p>
      {offline ? <OfflineBanner t={t} /> : null}
      {roles.length === 0 ? <p className="notice">{t('ai.noRole', { environment })}</p> : null}
      <div className="ai-columns">
        <AiChat environment={environment} runId={run || undefined} t={t} onModel={setChatModel} />
        <div className="ai-side">
          <DescribeProblem environment={environment} t={t} />
          <SearchPanel environment={environment} q={q} run={run} hits={hits} error={searchError} t={t} />
          <NoteForm environment={environment} run={run} answer={answer} mayOperate={roles.includes('operator') || roles.includes('admin')} t={t} />
        </div>
      </div>
      <PlanPanel environment={environment} run={run} goal={goal} plan={plan} planError={planError} answer={answer} t={t} />
      <IncidentPanel environment={environment} answer={answer} mayOperate={roles.includes('operator') || roles.includes('admin')} t={t} />
    </section>
  );
}
