// Containers of the Docker endpoints (docker connections) of the selected
// environment: grouped by stack or Compose project, with their state, logs,
// and restart / stop / start as runs (approved first in prod).
import { data, Form, Link, redirect, useNavigation, useSearchParams } from 'react-router';
import type { Route } from './+types/containers.js';
import type { ContainerSummary } from '../../../infra/docker-endpoint.js';
import { useT } from '../i18n/index.js';
import { ApiProblem, requireApi } from '../lib/api.server.js';
import { selectedEnvironment } from '../lib/session.server.js';
import { ContainerFollow } from '../lib/container-follow.js';
import { rolesIn, useShell } from '../lib/shell-data.js';
import { TableHead } from '../lib/table-head.js';

interface Connection {
  name: string;
  type: string;
  environment: string;
}

export async function loader({ request }: Route.LoaderArgs) {
  const api = await requireApi(request);
  const url = new URL(request.url);
  const me = await api.get<{ grants: Array<{ environment: string }> }>('/auth/me');
  const { environment } = await selectedEnvironment(request, me.grants);
  const endpoints = environment ? (await api.get<Connection[]>(`/connections?environment=${encodeURIComponent(environment)}`)).filter((connection) => connection.type === 'docker') : [];
  const endpoint = endpoints.find((connection) => connection.name === url.searchParams.get('endpoint'))?.name ?? endpoints[0]?.name;
  let groups: Array<{ group: string; containers: ContainerSummary[] }> = [];
  let problem: string | undefined;
  let logs: { container: string; lines: Array<{ stream: string; text: string }> } | undefined;
  if (endpoint) {
    const query = new URLSearchParams({ environment, endpoint });
    try {
      groups = await api.get<typeof groups>(`/containers?${query}`);
      const logsOf = url.searchParams.get('logs');
      if (logsOf) logs = { container: logsOf, ...(await api.get<{ lines: Array<{ stream: string; text: string }> }>(`/containers/${encodeURIComponent(logsOf)}/logs?${query}&tail=200`)) };
    } catch (error) {
      if (!(error instanceof ApiProblem)) throw error;
      problem = error.problem.detail ?? error.problem.title;
    }
  }
  return data({ environment, endpoints: endpoints.map((connection) => connection.name), endpoint, groups, problem, logs }, { headers: api.headers });
}

export async function action({ request }: Route.ActionArgs) {
  const api = await requireApi(request);
  const form = await request.formData();
  const verb = String(form.get('intent') ?? '');
  if (!['restart', 'stop', 'start'].includes(verb)) return data({ error: `unknown action "${verb}"` }, { status: 400, headers: api.headers });
  try {
    const started = await api.send<{ id: string }>('POST', `/containers/${encodeURIComponent(String(form.get('container') ?? ''))}/${verb}`, {
      environment: String(form.get('environment') ?? ''),
      endpoint: String(form.get('endpoint') ?? ''),
    });
    return redirect(`/runs/${encodeURIComponent(started.id)}`, { headers: api.headers });
  } catch (error) {
    if (!(error instanceof ApiProblem)) throw error;
    return data({ error: error.problem.detail ?? String(error.problem.status) }, { status: error.problem.status, headers: api.headers });
  }
}

function groupLabel(group: string, t: ReturnType<typeof useT>): string {
  if (group.startsWith('stack:')) return t('containers.stack', { name: group.slice('stack:'.length) });
  if (group.startsWith('compose:')) return t('containers.compose', { name: group.slice('compose:'.length) });
  return t('containers.standalone');
}

export default function Containers({ loaderData, actionData: answer }: Route.ComponentProps) {
  const t = useT();
  const shell = useShell();
  const navigation = useNavigation();
  const [params] = useSearchParams();
  const { environment, endpoints, endpoint, groups, problem, logs } = loaderData;
  const roles = rolesIn(shell.me, environment);
  const mayOperate = roles.includes('operator') || roles.includes('admin');
  return (
    <section>
      <h1>{t('containers.title')}</h1>
      {endpoints.length === 0 ? (
        <p className="notice">{t('containers.noEndpoint', { environment })}</p>
      ) : (
        <Form method="get" className="filters">
          <label htmlFor="endpoint">{t('containers.endpoint')}</label>
          <select id="endpoint" name="endpoint" defaultValue={endpoint}>
            {endpoints.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
          <button type="submit">{t('containers.show')}</button>
        </Form>
      )}
      {problem ? (
        <p className="error" role="alert">
          {problem}
        </p>
      ) : null}
      {answer?.error ? (
        <p className="error" role="alert">
          {answer.error}
        </p>
      ) : null}
      {environment === 'prod' && mayOperate ? <p className="muted">{t('containers.prodApproval')}</p> : null}
      {groups.map((group) => (
        <div key={group.group} className="container-group">
          <h2>{groupLabel(group.group, t)}</h2>
          <table className="table">
            <TableHead columns={[t('containers.name'), t('containers.image'), t('containers.state'), t('containers.status')]} actions={t('settings.actions')} />
            <tbody>
              {group.containers.map((container) => (
                <tr key={container.id} data-container={container.name}>
                  <td className="mono">{container.name}</td>
                  <td className="mono small">{container.image}</td>
                  <td>
                    <span className={`status status-${container.state === 'running' ? 'succeeded' : container.state === 'exited' ? 'failed' : 'waiting'}`}>{container.state}</span>
                    {container.health ? <span className="muted small"> {container.health}</span> : null}
                  </td>
                  <td className="small">{container.status}</td>
                  <td>
                    <div className="actions">
                      <Link to={`?${new URLSearchParams({ endpoint: endpoint ?? '', logs: container.name })}`}>{t('containers.logs')}</Link>
                      {container.state === 'running' ? <Link to={`?${new URLSearchParams({ endpoint: endpoint ?? '', follow: container.name })}`}>{t('containers.follow')}</Link> : null}
                      {mayOperate ? (
                        <Form method="post" className="actions">
                          <input type="hidden" name="container" value={container.name} />
                          <input type="hidden" name="environment" value={environment} />
                          <input type="hidden" name="endpoint" value={endpoint} />
                          {(container.state === 'running' ? (['restart', 'stop'] as const) : (['start'] as const)).map((verb) => (
                            <button key={verb} type="submit" name="intent" value={verb} disabled={navigation.state !== 'idle'} aria-label={t(`containers.${verb}Named`, { name: container.name })}>
                              {t(`containers.${verb}`)}
                            </button>
                          ))}
                        </Form>
                      ) : null}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
      {params.get('follow') && endpoint ? <ContainerFollow key={params.get('follow')} container={params.get('follow')!} environment={environment} endpoint={endpoint} t={t} /> : null}
      {logs ? (
        <section aria-labelledby="container-logs">
          <h2 id="container-logs">{t('containers.logsOf', { name: logs.container })}</h2>
          <pre className="container-logs mono small">
            {logs.lines.map((line, index) => (
              <span key={index} className={`log-line stream-${line.stream}`}>
                {line.text}
              </span>
            ))}
          </pre>
        </section>
      ) : null}
    </section>
  );
}
