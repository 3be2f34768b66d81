// One runbook: description, steps, and the form generated from its inputs.
import { useState } from 'react';
import { data, Form, redirect, useNavigation } from 'react-router';
import type { Route } from './+types/runbook.js';
import { useT } from '../i18n/index.js';
import { ApiProblem, requireApi } from '../lib/api.server.js';
import { checkInputsOnSubmit, readInputs, SchemaFields, withoutSecrets, type FieldError, type JsonSchema } from '../lib/schema-form.js';
import { rolesIn, useShell } from '../lib/shell-data.js';

interface RunbookStep {
  id: string;
  kind: string;
  title?: string;
  action?: string;
  role?: string;
  runbook?: string;
  steps?: RunbookStep[];
}

interface Runbook {
  name: string;
  title: string;
  description: string;
  version: string;
  category?: string;
  environments: string[];
  requiredRole?: string;
  inputs: JsonSchema;
  steps: RunbookStep[];
}

export async function loader({ request, params }: Route.LoaderArgs) {
  const api = await requireApi(request);
  const runbook = await api.get<Runbook>(`/runbooks/${encodeURIComponent(params.name ?? '')}`);
  return data({ runbook }, { headers: api.headers });
}

type ShownError = FieldError & { message?: string };

export async function action({ request, params }: Route.ActionArgs) {
  const api = await requireApi(request);
  const name = params.name ?? '';
  const form = await request.formData();
  const runbook = await api.get<Runbook>(`/runbooks/${encodeURIComponent(name)}`);
  const { value: inputs, errors: found } = readInputs(runbook.inputs, form);
  const environment = String(form.get('environment') ?? '');
  const errors: ShownError[] = found;
  if (errors.length > 0) return data({ errors, values: withoutSecrets(runbook.inputs, inputs), message: undefined as string | undefined }, { status: 400, headers: api.headers });
  try {
    const started = await api.send<{ id: string }>('POST', `/runbooks/${encodeURIComponent(name)}/execute`, { environment, inputs }, { 'idempotency-key': String(form.get('idempotencyKey') ?? '') });
    return redirect(`/runs/${encodeURIComponent(started.id)}`, { headers: api.headers });
  } catch (error) {
    if (!(error instanceof ApiProblem)) throw error;
    const serverErrors: ShownError[] = (error.problem.errors ?? []).map((entry) => ({ path: entry.path.replace(/^inputs\./, ''), code: 'server', message: entry.message }));
    return data({ errors: serverErrors, values: withoutSecrets(runbook.inputs, inputs), message: error.problem.detail ?? error.problem.title }, { status: error.problem.status, headers: api.headers });
  }
}

function StepList({ steps }: { steps: RunbookStep[] }) {
  const t = useT();
  return (
    <ol className="step-list">
      {steps.map((step) => (
        <li key={step.id}>
          <span className="mono">{step.id}</span> {step.title ? <span>— {step.title}</span> : null}{' '}
          <span className="tag">{step.kind === 'action' ? step.action : t(`step.kind.${step.kind}` as 'step.kind.approval')}</span>
          {step.kind === 'approval' && step.role ? <span className="muted"> ({t('runbook.approvalBy', { role: step.role })})</span> : null}
          {step.steps ? <StepList steps={step.steps} /> : null}
        </li>
      ))}
    </ol>
  );
}

export default function RunbookPage({ loaderData, actionData: answer }: Route.ComponentProps) {
  const t = useT();
  const { runbook } = loaderData;
  const shell = useShell();
  const navigation = useNavigation();
  const [clientErrors, setClientErrors] = useState<ShownError[] | undefined>();
  const [idempotencyKey] = useState(() => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`);
  const errors = clientErrors ?? answer?.errors ?? [];
  const allowed = runbook.environments.filter((environment) => {
    const roles = rolesIn(shell.me, environment);
    return roles.includes('admin') || roles.includes('operator');
  });
  const defaultEnvironment = allowed.includes(shell.environment) ? shell.environment : allowed[0];
  return (
    <section className="runbook-page">
      <h1>{runbook.title}</h1>
      <p className="muted mono">
        {runbook.name} · {t('runbook.version')} {runbook.version.slice(0, 12)}
      </p>
      <p>{runbook.description}</p>
      <div className="two-columns">
        <div>
          <h2>{t('runbook.steps')}</h2>
          <StepList steps={runbook.steps} />
        </div>
        <div>
          <h2>{t('runbook.run')}</h2>
          {allowed.length === 0 ? (
            <p className="notice">{t('runbook.noRole')}</p>
          ) : (
            <Form
              method="post"
              noValidate
              className="schema-form"
              onSubmit={checkInputsOnSubmit(runbook.inputs, setClientErrors)}
            >
              <input type="hidden" name="idempotencyKey" value={idempotencyKey} />
              {answer?.message ? (
                <p className="error" role="alert">
                  {answer.message}
                </p>
              ) : errors.length > 0 ? (
                <p className="error form-problems" role="alert">
                  {t('form.fixErrors')}
                </p>
              ) : null}
              <div className="field">
                <label htmlFor="run-environment">{t('runbook.environment')}</label>
                <select id="run-environment" name="environment" defaultValue={defaultEnvironment}>
                  {allowed.map((environment) => (
                    <option key={environment} value={environment}>
                      {environment}
                    </option>
                  ))}
                </select>
              </div>
              <SchemaFields schema={runbook.inputs} errors={errors} t={t} values={answer?.values} />
              <button type="submit" className="primary" disabled={navigation.state === 'submitting'}>
                {navigation.state === 'submitting' ? t('runbook.starting') : t('runbook.start')}
              </button>
            </Form>
          )}
        </div>
      </div>
    </section>
  );
}
