// Triggers of the selected environment: inbound webhooks (and Alertmanager
// receivers) that start a runbook as their owner. Creating one shows its URL
// and its secret once; a trigger's deliveries say what each request came to.
import { data, Form, Link, useNavigation } from 'react-router';
import type { Route } from './+types/triggers.js';
import { formatDateTime, useLanguage, useT } from '../i18n/index.js';
import { ApiProblem, problemMessage, requireApi } from '../lib/api.server.js';
import { selectedEnvironment, webConfig } from '../lib/session.server.js';
import { rolesIn, useShell } from '../lib/shell-data.js';
import { TableHead } from '../lib/table-head.js';

interface TriggerRow {
  id: string;
  name: string;
  kind: 'webhook' | 'alertmanager';
  runbook: string;
  environment: string;
  ownerEmail: string | null;
  auth: 'hmac' | 'bearer';
  filter: string | null;
  enabled: boolean;
  path: string;
}

interface DeliveryRow {
  id: string;
  receivedAt: string;
  outcome: string;
  runId: string | null;
  reason: string | null;
  alertFingerprint: string | null;
  bodyBytes: number;
}

type Answer = { created: { name: string; url: string; secret: string; auth: string } } | { done: 'deleted' | 'toggled' } | { error: string };

export async function loader({ request }: Route.LoaderArgs) {
  const api = await requireApi(request);
  const url = new URL(request.url);
  const me = await api.get<{ grants: Array<{ environment: string }> }>('/auth/me');
  const { environment } = await selectedEnvironment(request, me.grants);
  const triggers = environment ? await api.get<TriggerRow[]>(`/triggers?environment=${encodeURIComponent(environment)}`) : [];
  const runbooks = (await api.get<Array<{ name: string; valid: boolean }>>('/runbooks')).filter((entry) => entry.valid).map((entry) => entry.name);
  const selected = triggers.find((trigger) => trigger.id === url.searchParams.get('trigger'));
  const deliveries = selected ? await api.get<DeliveryRow[]>(`/triggers/${selected.id}/deliveries?limit=50`) : [];
  return data({ environment, triggers, runbooks, selected: selected?.id ?? null, deliveries, apiUrl: webConfig.publicApiUrl }, { headers: api.headers });
}

/** `name=value` lines as the inputs mapping. */
function parseMapping(text: string): Record<string, string> | string {
  const mapping: Record<string, string> = {};
  for (const line of text
    .split('\n')
    .map((entry) => entry.trim())
    .filter(Boolean)) {
    const at = line.indexOf('=');
    if (at <= 0) return `"${line}" is not name=value`;
    mapping[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return mapping;
}

export async function action({ request }: Route.ActionArgs) {
  const api = await requireApi(request);
  const form = await request.formData();
  const field = (name: string) => String(form.get(name) ?? '').trim();
  try {
    switch (field('intent')) {
      case 'create': {
        const inputs = parseMapping(field('inputs'));
        if (typeof inputs === 'string') return data<Answer>({ error: inputs }, { status: 400, headers: api.headers });
        const kind = field('kind') === 'alertmanager' ? 'alertmanager' : 'webhook';
        const created = await api.send<{ trigger: TriggerRow; secret: string }>('POST', '/triggers', {
          name: field('name'),
          environment: field('environment'),
          runbook: field('runbook'),
          kind,
          ...(kind === 'webhook' ? { auth: field('auth') === 'bearer' ? 'bearer' : 'hmac' } : {}),
          ...(field('filter') ? { filter: field('filter') } : {}),
          ...(field('dedupKey') ? { dedupKey: field('dedupKey') } : {}),
          inputs,
        });
        return data<Answer>(
          { created: { name: created.trigger.name, url: `${webConfig.publicApiUrl}${created.trigger.path}`, secret: created.secret, auth: created.trigger.auth } },
          { headers: api.headers },
        );
      }
      case 'toggle':
        await api.send('PATCH', `/triggers/${encodeURIComponent(field('id'))}`, { enabled: field('enabled') === 'true' });
        return data<Answer>({ done: 'toggled' }, { headers: api.headers });
      case 'delete':
        await api.send('DELETE', `/triggers/${encodeURIComponent(field('id'))}`);
        return data<Answer>({ done: 'deleted' }, { headers: api.headers });
      default:
        return data<Answer>({ error: 'unknown action' }, { status: 400, headers: api.headers });
    }
  } catch (error) {
    if (!(error instanceof ApiProblem)) throw error;
    return data<Answer>({ error: problemMessage(error.problem) }, { status: error.problem.status, headers: api.headers });
  }
}

export default function Triggers({ loaderData, actionData }: Route.ComponentProps) {
  const t = useT();
  const language = useLanguage();
  const shell = useShell();
  const navigation = useNavigation();
  const { environment, triggers, runbooks, selected, deliveries, apiUrl } = loaderData;
  const answer = actionData as Answer | undefined;
  const roles = rolesIn(shell.me, environment);
  const mayCreate = roles.includes('admin') || roles.includes('operator');
  const selectedTrigger = triggers.find((trigger) => trigger.id === selected);
  return (
    <section className="triggers">
      <h1>{t('triggers.title')}</h1>
      <p className="muted">{t('triggers.intro')}</p>
      {answer && 'error' in answer ? (
        <p className="error" role="alert">
          {answer.error}
        </p>
      ) : null}
      {answer && 'created' in answer ? (
        <div className="notice" role="status" data-testid="trigger-secret">
          <p>{t('triggers.created', { name: answer.created.name })}</p>
          <p>
            {t('triggers.url')}: <code>{answer.created.url}</code>
          </p>
          <p>
            {t('triggers.secret')}: <code>{answer.created.secret}</code>
          </p>
          <p className="muted">{t('triggers.secretOnce')}</p>
          <p className="muted">{answer.created.auth === 'bearer' ? t('triggers.howBearer') : t('triggers.howHmac')}</p>
        </div>
      ) : null}

      <h2>{t('triggers.list', { environment })}</h2>
      {triggers.length === 0 ? (
        <p className="muted">{t('triggers.none')}</p>
      ) : (
        <table>
          <TableHead columns={[t('triggers.name'), t('triggers.kind'), t('triggers.runbook'), t('triggers.owner'), t('triggers.state'), t('triggers.url')]} actions={t('triggers.actions')} />
          <tbody>
            {triggers.map((trigger) => (
              <tr key={trigger.id}>
                <td>
                  <Link to={`?trigger=${trigger.id}`}>{trigger.name}</Link>
                </td>
                <td>{trigger.kind === 'alertmanager' ? 'Alertmanager' : `${t('triggers.webhook')} (${trigger.auth})`}</td>
                <td className="mono">{trigger.runbook}</td>
                <td>{trigger.ownerEmail ?? '—'}</td>
                <td>{trigger.enabled ? t('triggers.enabled') : t('triggers.disabled')}</td>
                <td className="mono">{`${apiUrl}${trigger.path}`}</td>
                <td>
                  <Form method="post" className="inline-form">
                    <input type="hidden" name="id" value={trigger.id} />
                    <input type="hidden" name="enabled" value={String(!trigger.enabled)} />
                    <button type="submit" name="intent" value="toggle" className="ghost">
                      {trigger.enabled ? t('triggers.disable') : t('triggers.enable')}
                    </button>
                    <button type="submit" name="intent" value="delete" className="ghost danger">
                      {t('triggers.delete')}
                    </button>
                  </Form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      {selectedTrigger ? (
        <>
          <h2>{t('triggers.deliveries', { name: selectedTrigger.name })}</h2>
          {deliveries.length === 0 ? (
            <p className="muted">{t('triggers.noDeliveries')}</p>
          ) : (
            <table data-testid="trigger-deliveries">
              <TableHead columns={[t('triggers.received'), t('triggers.outcome'), t('triggers.run'), t('triggers.alert'), t('triggers.bytes'), t('triggers.reason')]} />
              <tbody>
                {deliveries.map((delivery) => (
                  <tr key={delivery.id}>
                    <td>{formatDateTime(language, delivery.receivedAt)}</td>
                    <td>{delivery.outcome}</td>
                    <td>{delivery.runId ? <Link to={`/runs/${encodeURIComponent(delivery.runId)}`}>{delivery.runId}</Link> : '—'}</td>
                    <td className="mono">{delivery.alertFingerprint ?? '—'}</td>
                    <td>{delivery.bodyBytes}</td>
                    <td>{delivery.reason ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      ) : null}

      {mayCreate ? (
        <>
          <h2>{t('triggers.new')}</h2>
          <Form method="post" className="card enroll-form">
            <input type="hidden" name="environment" value={environment} />
            <label htmlFor="trigger-name">{t('triggers.name')}</label>
            <input id="trigger-name" name="name" required pattern="[A-Za-z0-9][A-Za-z0-9._\-]*" />
            <label htmlFor="trigger-kind">{t('triggers.kind')}</label>
            <select id="trigger-kind" name="kind" defaultValue="webhook">
              <option value="webhook">{t('triggers.webhook')}</option>
              <option value="alertmanager">Alertmanager</option>
            </select>
            <label htmlFor="trigger-auth">{t('triggers.auth')}</label>
            <select id="trigger-auth" name="auth" defaultValue="hmac">
              <option value="hmac">HMAC</option>
              <option value="bearer">Bearer</option>
            </select>
            <label htmlFor="trigger-runbook">{t('triggers.runbook')}</label>
            <select id="trigger-runbook" name="runbook" required>
              {runbooks.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
            <label htmlFor="trigger-filter">{t('triggers.filter')}</label>
            <input id="trigger-filter" name="filter" placeholder="body.ref == 'refs/heads/main'" />
            <label htmlFor="trigger-inputs">{t('triggers.inputs')}</label>
            <textarea id="trigger-inputs" name="inputs" rows={4} placeholder={'repo=${{ body.repository.name }}'} />
            <label htmlFor="trigger-dedup">{t('triggers.dedupKey')}</label>
            <input id="trigger-dedup" name="dedupKey" placeholder="${{ body.id }}" />
            <button type="submit" name="intent" value="create" disabled={navigation.state === 'submitting'}>
              {t('triggers.create')}
            </button>
          </Form>
        </>
      ) : (
        <p className="muted">{t('triggers.mayNotCreate', { environment })}</p>
      )}
    </section>
  );
}
