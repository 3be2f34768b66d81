// Stacks of the selected environment's Docker endpoints: the stacks a Swarm
// runs, and a Compose file deployed from a multi-line editor or an uploaded
// file, checked by the API as the user types (the services a deploy would
// create, or every mistake with its line) and deployed as a deploy-stack run.
import { useEffect, useRef, useState } from 'react';
import { data, Form, redirect, useFetcher, useNavigation } from 'react-router';
import type { Route } from './+types/stacks.js';
import { useT, type Translate } from '../i18n/index.js';
import { ApiProblem, requireApi } from '../lib/api.server.js';
import { selectedEnvironment } from '../lib/session.server.js';
import { rolesIn, useShell } from '../lib/shell-data.js';
import { parseVariables, type PlannedServiceView, type StackFinding, type StackValidation } from '../lib/stack-validation.js';
import { TableHead } from '../lib/table-head.js';

interface Connection {
  name: string;
  type: string;
}

interface StackRow {
  name: string;
  services: Array<{ name: string; image: string; replicas: number; running: number; updateState?: string }>;
}

const VALIDATE_DELAY_MS = 400;

export async function loader({ request }: Route.LoaderArgs) {
  const api = await requireApi(request);
  const url = new URL(request.url);
  const me = await api.get<{ grants: Array<{ environment: string }> }>('/auth/me');
  const { environment } = await selectedEnvironment(request, me.grants);
  const endpoints = environment ? (await api.get<Connection[]>(`/connections?environment=${encodeURIComponent(environment)}`)).filter((connection) => connection.type === 'docker').map((connection) => connection.name) : [];
  const endpoint = endpoints.find((name) => name === url.searchParams.get('endpoint')) ?? endpoints[0];
  let stacks: StackRow[] = [];
  let problem: string | undefined;
  if (endpoint) {
    try {
      stacks = await api.get<StackRow[]>(`/stacks?${new URLSearchParams({ environment, endpoint })}`);
    } catch (error) {
      if (!(error instanceof ApiProblem)) throw error;
      problem = error.problem.detail ?? error.problem.title;
    }
  }
  return data({ environment, endpoints, endpoint, stacks, problem }, { headers: api.headers });
}

export async function action({ request }: Route.ActionArgs) {
  const api = await requireApi(request);
  const form = await request.formData();
  const inputs = {
    endpoint: String(form.get('endpoint') ?? ''),
    name: String(form.get('name') ?? ''),
    stack: String(form.get('stack') ?? ''),
    variables: parseVariables(String(form.get('variables') ?? '')),
    files: JSON.parse(String(form.get('files') || '{}')) as Record<string, string>,
  };
  try {
    const started = await api.send<{ id: string }>('POST', '/runbooks/deploy-stack/execute', { environment: String(form.get('environment') ?? ''), inputs }, { 'idempotency-key': String(form.get('idempotencyKey') ?? '') });
    return redirect(`/runs/${encodeURIComponent(started.id)}`, { headers: api.headers });
  } catch (error) {
    if (!(error instanceof ApiProblem)) throw error;
    const details = (error.problem.errors ?? []).map((entry) => `${entry.path}: ${entry.message}`);
    return data({ error: [error.problem.detail ?? error.problem.title, ...details].join('\n') }, { status: error.problem.status, headers: api.headers });
  }
}

function modeOf(service: PlannedServiceView, t: Translate): string {
  const mode = service.spec.Mode ?? {};
  if (mode.Global) return t('stacks.global');
  if (mode.ReplicatedJob || mode.GlobalJob) return 'job';
  return t('stacks.replicas', { count: mode.Replicated?.Replicas ?? 1 });
}

/** Mistakes or warnings, each with where it is in the file. */
function FindingList({ findings, className }: { findings: StackFinding[]; className?: string }) {
  return (
    <ul className={className}>
      {findings.map((finding, index) => (
        <li key={index}>
          <span className="mono">{finding.path}</span>: {finding.message}
        </li>
      ))}
    </ul>
  );
}

function PlannedServices({ validation, t }: { validation: StackValidation; t: Translate }) {
  const services = validation.plan?.services ?? [];
  return (
    <section aria-labelledby="stack-plan" className="stack-plan">
      {validation.valid ? (
        <p className="notice" role="status">
          {t('stacks.valid', { count: services.length })}
        </p>
      ) : (
        <div role="alert" className="error">
          <p>{t('stacks.invalid')}</p>
          <FindingList findings={validation.errors} className="stack-errors" />
        </div>
      )}
      {validation.warnings.length > 0 ? (
        <div className="stack-warnings">
          <h3>{t('stacks.warnings')}</h3>
          <FindingList findings={validation.warnings} />
        </div>
      ) : null}
      {services.length > 0 ? (
        <>
          <h3 id="stack-plan">{t('stacks.planned')}</h3>
          <table className="table">
            <TableHead columns={[t('stacks.service'), t('stacks.image'), t('stacks.mode'), t('stacks.ports'), t('stacks.networks')]} />
            <tbody>
              {services.map((service) => (
                <tr key={service.name} data-service={service.name}>
                  <td className="mono">{service.name}</td>
                  <td className="mono small">{service.spec.TaskTemplate?.ContainerSpec?.Image}</td>
                  <td>{modeOf(service, t)}</td>
                  <td className="mono small">{(service.spec.EndpointSpec?.Ports ?? []).map((port) => `${port.PublishedPort ?? ''}:${port.TargetPort}/${port.Protocol ?? 'tcp'}${port.PublishMode === 'host' ? ' (host)' : ''}`).join(', ')}</td>
                  <td className="mono small">{(service.spec.TaskTemplate?.Networks ?? []).map((network) => network.Target).join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </section>
  );
}

export default function Stacks({ loaderData, actionData }: Route.ComponentProps) {
  const t = useT();
  const shell = useShell();
  const navigation = useNavigation();
  const { environment, endpoints, endpoint, stacks, problem } = loaderData;
  const roles = rolesIn(shell.me, environment);
  const mayDeploy = roles.includes('operator') || roles.includes('admin');
  const [name, setName] = useState('');
  const [stack, setStack] = useState('');
  const [variables, setVariables] = useState('');
  const [files, setFiles] = useState<Record<string, string>>({});
  const [idempotencyKey] = useState(() => (typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : String(Date.now())));
  const validation = useFetcher<StackValidation>();
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  // Validate as the user types, a moment after the last keystroke.
  useEffect(() => {
    clearTimeout(timer.current);
    if (stack.trim() === '' || name.trim() === '') return;
    timer.current = setTimeout(() => {
      void validation.submit({ name, stack, variables, files: JSON.stringify(files) }, { method: 'post', action: '/stacks/validate' });
    }, VALIDATE_DELAY_MS);
    return () => clearTimeout(timer.current);
    // The fetcher is left out of the dependencies: it changes on every submit.
  }, [name, stack, variables, files]);

  const readComposeFile = async (list: FileList | null) => {
    const file = list?.[0];
    if (!file) return;
    setStack(await file.text());
    if (name === '') setName(file.name.replace(/\.(ya?ml)$/i, '').replace(/^(docker-)?compose$|^docker-stack$/, 'stack').toLowerCase().replace(/[^a-z0-9_-]/g, '-'));
  };
  const readExtraFiles = async (list: FileList | null) => {
    const loaded: Record<string, string> = {};
    for (const file of Array.from(list ?? [])) loaded[file.name] = await file.text();
    setFiles(loaded);
  };

  const checked = validation.data;
  const valid = checked?.valid === true && validation.state === 'idle';
  return (
    <section>
      <h1>{t('stacks.title')}</h1>
      <p className="muted">{t('stacks.intro')}</p>
      {endpoints.length === 0 ? <p className="notice">{t('stacks.noEndpoint', { environment })}</p> : null}
      {problem ? (
        <p className="error" role="alert">
          {problem}
        </p>
      ) : null}
      {!mayDeploy ? <p className="muted">{t('stacks.mayNotDeploy', { environment })}</p> : null}
      <Form method="post" className="stack-form">
        <input type="hidden" name="environment" value={environment} />
        <input type="hidden" name="idempotencyKey" value={idempotencyKey} />
        <input type="hidden" name="files" value={JSON.stringify(files)} />
        <label htmlFor="stack-endpoint">{t('stacks.endpoint')}</label>
        <select id="stack-endpoint" name="endpoint" defaultValue={endpoint}>
          {endpoints.map((candidate) => (
            <option key={candidate} value={candidate}>
              {candidate}
            </option>
          ))}
        </select>
        <label htmlFor="stack-name">{t('stacks.name')}</label>
        <input id="stack-name" name="name" value={name} onChange={(event) => setName(event.target.value)} pattern="[a-z0-9][a-z0-9_\-]{0,39}" required autoComplete="off" />
        <label htmlFor="stack-upload">{t('stacks.upload')}</label>
        <input id="stack-upload" type="file" accept=".yml,.yaml,text/yaml" onChange={(event) => void readComposeFile(event.target.files)} />
        <label htmlFor="stack-file">{t('stacks.file')}</label>
        <textarea id="stack-file" name="stack" className="mono" rows={20} spellCheck={false} value={stack} onChange={(event) => setStack(event.target.value)} required />
        <label htmlFor="stack-variables">{t('stacks.variables')}</label>
        <textarea id="stack-variables" name="variables" className="mono" rows={3} spellCheck={false} value={variables} onChange={(event) => setVariables(event.target.value)} />
        <label htmlFor="stack-files">{t('stacks.extraFiles')}</label>
        <input id="stack-files" type="file" multiple onChange={(event) => void readExtraFiles(event.target.files)} />
        {Object.keys(files).length > 0 ? <p className="muted small">{t('stacks.extraFilesLoaded', { names: Object.keys(files).join(', ') })}</p> : null}
        {validation.state !== 'idle' ? <p className="muted">{t('stacks.validating')}</p> : null}
        {checked ? <PlannedServices validation={checked} t={t} /> : null}
        {actionData?.error ? (
          <p className="error" role="alert" style={{ whiteSpace: 'pre-wrap' }}>
            {actionData.error}
          </p>
        ) : null}
        {mayDeploy && endpoint ? (
          <button type="submit" disabled={!valid || navigation.state !== 'idle'}>
            {t('stacks.deploy')}
          </button>
        ) : null}
      </Form>
      {endpoint ? (
        <section aria-labelledby="existing-stacks">
          <h2 id="existing-stacks">{t('stacks.existing', { endpoint })}</h2>
          {stacks.length === 0 ? <p className="muted">{t('stacks.noStacks')}</p> : null}
          {stacks.map((row) => (
            <div key={row.name} className="container-group">
              <h3>{row.name}</h3>
              <table className="table">
                <TableHead columns={[t('stacks.service'), t('stacks.image'), t('stacks.mode')]} />
                <tbody>
                  {row.services.map((service) => (
                    <tr key={service.name}>
                      <td className="mono">{service.name}</td>
                      <td className="mono small">{service.image}</td>
                      <td>{t('stacks.running', { running: service.running, replicas: service.replicas })}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ))}
        </section>
      ) : null}
    </section>
  );
}
