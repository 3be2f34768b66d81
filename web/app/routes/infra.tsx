// Infra: the nodes of the selected environment (status, last seen, hardware,
// labels), one node's details, the network topology as a graph, and, for
// admins, enrolling a node for its agent, adding one reached over SSH, or
// removing one.
import { data, Form, Link, useNavigation, useSearchParams } from 'react-router';
import type { Route } from './+types/infra.js';
import type { NodeView } from '../../../infra/node-store.js';
import type { Topology } from '../../../infra/topology.js';
import { formatDateTime, formatDuration, useLanguage, useT, type MessageKey, type Translate } from '../i18n/index.js';
import { ApiProblem, requireApi } from '../lib/api.server.js';
import { selectedEnvironment, webConfig } from '../lib/session.server.js';
import { rolesIn, useShell } from '../lib/shell-data.js';
import { TopologyGraph } from '../lib/topology-graph.js';
import { TableHead } from '../lib/table-head.js';

export async function loader({ request }: Route.LoaderArgs) {
  const api = await requireApi(request);
  const me = await api.get<{ grants: Array<{ environment: string }> }>('/auth/me');
  const { environment } = await selectedEnvironment(request, me.grants);
  if (!environment) return data({ environment, nodes: [] as NodeView[], topology: undefined }, { headers: api.headers });
  const query = new URLSearchParams({ environment });
  const [nodes, topology] = await Promise.all([api.get<NodeView[]>(`/nodes?${query}`), api.get<Topology>(`/network/topology?${query}&format=json`)]);
  return data({ environment, nodes, topology }, { headers: api.headers });
}

export async function action({ request }: Route.ActionArgs) {
  const api = await requireApi(request);
  const form = await request.formData();
  const intent = String(form.get('intent') ?? '');
  try {
    const labels = Object.fromEntries(
      String(form.get('labels') ?? '')
        .split(',')
        .map((pair) => pair.trim())
        .filter(Boolean)
        .map((pair) => [pair.split('=')[0]!.trim(), pair.slice(pair.indexOf('=') + 1).trim()]),
    );
    if (intent === 'add-ssh') {
      const user = String(form.get('user') ?? '').trim();
      const added = await api.send<NodeView>('POST', '/nodes', {
        environment: String(form.get('environment') ?? ''),
        name: String(form.get('name') ?? '').trim(),
        address: String(form.get('address') ?? '').trim(),
        labels,
        ssh: { connection: String(form.get('connection') ?? '').trim(), ...(user ? { user } : {}) },
      });
      return data({ enrolled: undefined, added: added.name, error: undefined }, { headers: api.headers });
    }
    if (intent === 'enroll') {
      const enrolled = await api.send<{ node: NodeView; token: string; expiresAt: string }>('POST', '/nodes/enroll', {
        environment: String(form.get('environment') ?? ''),
        name: String(form.get('name') ?? '').trim(),
        labels,
      });
      // The API as nodes reach it from outside, not as this web server calls it.
      const command = `npx jarvis agent --api ${webConfig.publicApiUrl} --token ${enrolled.token}`;
      return data({ enrolled: { name: enrolled.node.name, expiresAt: enrolled.expiresAt, command }, added: undefined, error: undefined }, { headers: api.headers });
    }
    if (intent === 'delete') {
      await api.send('DELETE', `/nodes/${encodeURIComponent(String(form.get('id') ?? ''))}`);
      return data({ enrolled: undefined, added: undefined, error: undefined }, { headers: api.headers });
    }
    return data({ enrolled: undefined, added: undefined, error: `unknown action "${intent}"` }, { status: 400, headers: api.headers });
  } catch (error) {
    if (!(error instanceof ApiProblem)) throw error;
    return data({ enrolled: undefined, added: undefined, error: error.problem.detail ?? String(error.problem.status) }, { status: error.problem.status, headers: api.headers });
  }
}

const STATUS_CLASS: Record<NodeView['status'], string> = { online: 'succeeded', pending: 'waiting', unreachable: 'failed' };
const gib = (bytes: number | undefined) => (bytes === undefined ? '—' : `${(bytes / 2 ** 30).toFixed(1)} GiB`);

function NodeStatus({ status, t }: { status: NodeView['status']; t: Translate }) {
  return <span className={`status status-${STATUS_CLASS[status]}`}>{t(`infra.status.${status}` as MessageKey)}</span>;
}

function NodeDetails({ node, t }: { node: NodeView; t: Translate }) {
  const language = useLanguage();
  const profile = node.profile;
  const health = node.lastHealth;
  return (
    <section className="card node-details" aria-labelledby="node-details">
      <h2 id="node-details">{t('infra.details', { name: node.name })}</h2>
      <dl className="facts">
        <dt>{t('infra.status')}</dt>
        <dd>
          <NodeStatus status={node.status} t={t} />
        </dd>
        <dt>{t('infra.source')}</dt>
        <dd>{t(`infra.source.${node.source}` as MessageKey)}</dd>
        <dt>{t('infra.address')}</dt>
        <dd className="mono">{node.address || '—'}</dd>
        <dt>{t('infra.lastSeen')}</dt>
        <dd>{node.lastSeenAt ? formatDateTime(language, node.lastSeenAt) : t('infra.never')}</dd>
        <dt>{t('infra.ssh')}</dt>
        <dd className="mono">{node.ssh ? t('infra.sshVia', { connection: node.ssh.connection, user: node.ssh.user || t('infra.sshDefaultUser') }) : '—'}</dd>
        <dt>{t('infra.taskQueue')}</dt>
        <dd className="mono">{node.taskQueue ?? (node.enrollmentPending ? t('infra.enrollmentPending', { time: formatDateTime(language, node.enrollmentExpiresAt ?? undefined) }) : '—')}</dd>
        {profile ? (
          <>
            <dt>{t('infra.os')}</dt>
            <dd>
              {profile.hostname}: {profile.os.name} {profile.os.version} ({profile.os.kernel}, {profile.os.arch})
            </dd>
            <dt>{t('infra.cpu')}</dt>
            <dd>
              {profile.cpu.cores} × {profile.cpu.model}
            </dd>
            <dt>{t('infra.memory')}</dt>
            <dd>{gib(profile.memoryBytes)}</dd>
            <dt>{t('infra.docker')}</dt>
            <dd>{profile.docker ? `${profile.docker.version}${profile.docker.swarm?.role ? ` · ${t('infra.swarm', { role: profile.docker.swarm.role })}` : ''}` : t('infra.noDocker')}</dd>
          </>
        ) : null}
      </dl>
      {health ? (
        <>
          <h3>{t('infra.health')}</h3>
          <dl className="facts">
            <dt>{t('infra.load')}</dt>
            <dd>{health.load.map((value) => value.toFixed(2)).join(' · ')}</dd>
            <dt>{t('infra.freeMemory')}</dt>
            <dd>
              {gib(health.memoryFreeBytes)} / {gib(health.memoryTotalBytes)}
            </dd>
            <dt>{t('infra.uptime')}</dt>
            <dd>{formatDuration(health.uptimeSeconds * 1000)}</dd>
          </dl>
        </>
      ) : null}
      {profile ? (
        <div className="two-columns">
          <div>
            <h3>{t('infra.disks')}</h3>
            <table className="table">
              <TableHead columns={[t('infra.mount'), t('infra.device'), t('infra.size'), t('infra.used')]} />
              <tbody>
                {profile.disks.map((disk) => (
                  <tr key={disk.mount}>
                    <td className="mono">{disk.mount}</td>
                    <td className="mono small">{disk.device}</td>
                    <td>{gib(disk.sizeBytes)}</td>
                    <td>{gib(disk.usedBytes)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div>
            <h3>{t('infra.interfaces')}</h3>
            <table className="table">
              <TableHead columns={[t('infra.interface'), t('infra.addresses')]} />
              <tbody>
                {profile.interfaces.map((entry) => (
                  <tr key={entry.name}>
                    <td className="mono">{entry.name}</td>
                    <td className="mono small">{entry.addresses.join(', ')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      ) : null}
      <Link to="?">{t('infra.close')}</Link>
    </section>
  );
}

export default function Infra({ loaderData, actionData: answer }: Route.ComponentProps) {
  const t = useT();
  const language = useLanguage();
  const shell = useShell();
  const navigation = useNavigation();
  const [params] = useSearchParams();
  const { environment, nodes, topology } = loaderData;
  const isAdmin = rolesIn(shell.me, environment).includes('admin');
  const selected = nodes.find((node) => node.id === params.get('node'));
  return (
    <section>
      <h1>{t('infra.title')}</h1>
      {answer?.error ? (
        <p className="error" role="alert">
          {answer.error}
        </p>
      ) : null}
      {answer?.enrolled ? (
        <div className="notice" role="status">
          <p>{t('infra.enrolled', { name: answer.enrolled.name, time: formatDateTime(language, answer.enrolled.expiresAt) })}</p>
          <pre className="mono small">{answer.enrolled.command}</pre>
        </div>
      ) : null}
      {answer?.added ? (
        <p className="notice" role="status">
          {t('infra.added', { name: answer.added })}
        </p>
      ) : null}
      <h2>{t('infra.nodes')}</h2>
      {nodes.length === 0 ? (
        <p className="notice">{t('infra.noNodes', { environment })}</p>
      ) : (
        <table className="table" data-testid="nodes">
          <thead>
            <tr>
              <th scope="col">{t('infra.name')}</th>
              <th scope="col">{t('infra.status')}</th>
              <th scope="col">{t('infra.lastSeen')}</th>
              <th scope="col">{t('infra.cpu')}</th>
              <th scope="col">{t('infra.memory')}</th>
              <th scope="col">{t('infra.os')}</th>
              <th scope="col">{t('infra.docker')}</th>
              <th scope="col">{t('infra.labels')}</th>
              {isAdmin ? (
                <th scope="col">
                  <span className="sr-only">{t('settings.actions')}</span>
                </th>
              ) : null}
            </tr>
          </thead>
          <tbody>
            {nodes.map((node) => (
              <tr key={node.id} data-node={node.name}>
                <td className="mono">
                  <Link to={`?${new URLSearchParams({ node: node.id })}`}>{node.name}</Link>
                </td>
                <td>
                  <NodeStatus status={node.status} t={t} />
                </td>
                <td className="small">{node.lastSeenAt ? formatDateTime(language, node.lastSeenAt) : t('infra.never')}</td>
                <td>{node.profile?.cpu.cores ?? '—'}</td>
                <td>{gib(node.profile?.memoryBytes)}</td>
                <td className="small">{node.profile ? `${node.profile.os.name} ${node.profile.os.version}` : '—'}</td>
                <td className="small">{node.profile ? (node.profile.docker?.version ?? t('infra.noDocker')) : '—'}</td>
                <td>
                  {Object.entries(node.labels).map(([key, value]) => (
                    <span key={key} className="tag">
                      {key}={value}
                    </span>
                  ))}
                </td>
                {isAdmin ? (
                  <td>
                    <Form method="post">
                      <input type="hidden" name="id" value={node.id} />
                      <button type="submit" name="intent" value="delete" className="danger" disabled={navigation.state !== 'idle'} aria-label={t('infra.deleteNamed', { name: node.name })}>
                        {t('infra.delete')}
                      </button>
                    </Form>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {selected ? <NodeDetails node={selected} t={t} /> : null}
      {topology && topology.nodes.length > 0 ? (
        <section aria-labelledby="topology">
          <h2 id="topology">{t('infra.topology')}</h2>
          <TopologyGraph topology={topology} t={t} />
          {topology.links.length === 0 ? <p className="muted small">{t('infra.topologyEmpty')}</p> : null}
          <a href="/infra/topology.dot" download>
            {t('infra.downloadDot')}
          </a>
        </section>
      ) : null}
      {isAdmin ? (
        <Form method="post" className="card enroll-form">
          <h2>{t('infra.enroll')}</h2>
          <input type="hidden" name="environment" value={environment} />
          <label htmlFor="enroll-name">{t('infra.enrollName')}</label>
          <input id="enroll-name" name="name" required pattern="[a-z0-9][a-z0-9\-]{0,62}" />
          <label htmlFor="enroll-labels">{t('infra.enrollLabels')}</label>
          <input id="enroll-labels" name="labels" placeholder="site=lab, tier=edge" />
          <button type="submit" name="intent" value="enroll" className="primary" disabled={navigation.state !== 'idle'}>
            {t('infra.enrollSubmit')}
          </button>
        </Form>
      ) : null}
      {isAdmin ? (
        <Form method="post" className="card enroll-form">
          <h2>{t('infra.addSsh')}</h2>
          <p className="muted small">{t('infra.addSshHint')}</p>
          <input type="hidden" name="environment" value={environment} />
          <label htmlFor="ssh-name">{t('infra.enrollName')}</label>
          <input id="ssh-name" name="name" required pattern="[a-z0-9][a-z0-9\-]{0,62}" />
          <label htmlFor="ssh-address">{t('infra.sshAddress')}</label>
          <input id="ssh-address" name="address" required pattern="[A-Za-z0-9.:\-]+" />
          <label htmlFor="ssh-connection">{t('infra.sshConnection')}</label>
          <input id="ssh-connection" name="connection" required />
          <label htmlFor="ssh-user">{t('infra.sshUser')}</label>
          <input id="ssh-user" name="user" pattern="[a-z_][a-z0-9_\-]*" />
          <label htmlFor="ssh-labels">{t('infra.enrollLabels')}</label>
          <input id="ssh-labels" name="labels" placeholder="site=lab, tier=edge" />
          <button type="submit" name="intent" value="add-ssh" className="primary" disabled={navigation.state !== 'idle'}>
            {t('infra.addSshSubmit')}
          </button>
        </Form>
      ) : null}
    </section>
  );
}
