// Notifications: the language of your notifications, your subscriptions, and
// (for admins) the rules of their environments, each environment's default
// e-mail channel, "send a test" and the delivery log of a rule.
import { data, Form, Link } from 'react-router';
import type { Route } from './+types/notifications.js';
import { formatDateTime, useLanguage, useT, type MessageKey } from '../i18n/index.js';
import { ApiProblem, requireApi } from '../lib/api.server.js';
import { useShell } from '../lib/shell-data.js';
import { TableHead } from '../lib/table-head.js';
import type { ConnectionView } from '../../../api/services/connection-service.js';
import type { RuleView, SubscriptionView } from '../../../api/services/notification-service.js';
import type { DeliveryView } from '../../../notifications/notification-store.js';
import { NOTIFICATION_KINDS } from '../../../notifications/events.js';

const CHANNEL_TYPES = ['smtp', 'slack', 'teams', 'telegram', 'ntfy', 'webhook'];

export async function loader({ request }: Route.LoaderArgs) {
  const api = await requireApi(request);
  const rule = new URL(request.url).searchParams.get('rule');
  const [locale, subscriptions, rules, connections, defaults] = await Promise.all([
    api.get<{ locale: string }>('/notifications/locale'),
    api.get<SubscriptionView[]>('/notifications/subscriptions'),
    api.get<RuleView[]>('/notifications/rules'),
    api.get<ConnectionView[]>('/connections'),
    api.get<Array<{ environment: string; connectionId: string }>>('/notifications/defaults'),
  ]);
  const deliveries = await api.get<DeliveryView[]>(rule ? `/notifications/deliveries?rule=${encodeURIComponent(rule)}&limit=50` : '/notifications/deliveries?limit=20');
  return data(
    { locale: locale.locale, subscriptions, rules, defaults, channels: connections.filter((connection) => CHANNEL_TYPES.includes(connection.type)), deliveries, rule },
    { headers: api.headers },
  );
}

type Done = 'locale' | 'subscribed' | 'unsubscribed' | 'rule' | 'ruleDeleted' | 'test' | 'default';
type Answer = { done?: Done; error?: string };

export async function action({ request }: Route.ActionArgs) {
  const api = await requireApi(request);
  const form = await request.formData();
  const field = (name: string) => String(form.get(name) ?? '').trim();
  const events = form.getAll('events').map(String);
  const optional = (name: string) => (field(name) ? { [name]: field(name) } : {});
  try {
    switch (field('intent')) {
      case 'locale':
        await api.send('PUT', '/notifications/locale', { locale: field('locale') });
        return data<Answer>({ done: 'locale' }, { headers: api.headers });
      case 'subscribe':
        await api.send('POST', '/notifications/subscriptions', { environment: field('environment'), events });
        return data<Answer>({ done: 'subscribed' }, { headers: api.headers });
      case 'unsubscribe':
        await api.send('DELETE', `/notifications/subscriptions/${encodeURIComponent(field('id'))}`);
        return data<Answer>({ done: 'unsubscribed' }, { headers: api.headers });
      case 'rule':
        await api.send('POST', '/notifications/rules', {
          environment: field('environment'),
          name: field('name'),
          events,
          connectionId: field('connectionId'),
          locale: field('locale') || 'en',
          ...optional('runbook'),
          ...optional('recipient'),
        });
        return data<Answer>({ done: 'rule' }, { headers: api.headers });
      case 'rule-delete':
        await api.send('DELETE', `/notifications/rules/${encodeURIComponent(field('id'))}`);
        return data<Answer>({ done: 'ruleDeleted' }, { headers: api.headers });
      case 'rule-test':
        await api.send('POST', `/notifications/rules/${encodeURIComponent(field('id'))}/test`);
        return data<Answer>({ done: 'test' }, { headers: api.headers });
      case 'default':
        await api.send('PUT', `/notifications/defaults/${encodeURIComponent(field('environment'))}`, { connectionId: field('connectionId') || null });
        return data<Answer>({ done: 'default' }, { headers: api.headers });
      default:
        return data<Answer>({ error: 'unknown action' }, { status: 400, headers: api.headers });
    }
  } catch (error) {
    if (!(error instanceof ApiProblem)) throw error;
    return data<Answer>({ error: error.problem.detail ?? error.problem.title }, { status: error.problem.status, headers: api.headers });
  }
}

function EventBoxes({ idPrefix }: { idPrefix: string }) {
  const t = useT();
  return (
    <fieldset className="checkboxes">
      <legend>{t('notifications.events')}</legend>
      {NOTIFICATION_KINDS.map((kind) => (
        <label key={kind} htmlFor={`${idPrefix}-${kind}`}>
          <input type="checkbox" id={`${idPrefix}-${kind}`} name="events" value={kind} /> {t(`notifications.event.${kind}` as MessageKey)}
        </label>
      ))}
    </fieldset>
  );
}

export default function Notifications({ loaderData, actionData }: Route.ComponentProps) {
  const t = useT();
  const language = useLanguage();
  const shell = useShell();
  const { locale, subscriptions, rules, defaults, channels, deliveries, rule } = loaderData;
  const answer = actionData as Answer | undefined;
  const environments = [...new Set(shell.me.grants.map((grant) => grant.environment))];
  const adminIn = [...new Set(shell.me.grants.filter((grant) => grant.role === 'admin').map((grant) => grant.environment))];
  const eventName = (kind: string) => t(`notifications.event.${kind}` as MessageKey);
  return (
    <section className="notifications">
      <h1>{t('notifications.title')}</h1>
      <p className="muted">{t('notifications.intro')}</p>
      {answer?.error ? (
        <p className="error" role="alert">
          {answer.error}
        </p>
      ) : null}
      {answer?.done ? (
        <p className="notice" role="status">
          {t(`notifications.done.${answer.done}`)}
        </p>
      ) : null}

      <Form method="post" className="inline-form">
        <input type="hidden" name="intent" value="locale" />
        <label htmlFor="notification-locale">{t('notifications.language')}</label>
        <select id="notification-locale" name="locale" defaultValue={locale}>
          <option value="en">{t('settings.languageName.en')}</option>
          <option value="pt-BR">{t('settings.languageName.pt-BR')}</option>
        </select>
        <button type="submit">{t('notifications.save')}</button>
      </Form>

      <h2>{t('notifications.subscriptions')}</h2>
      <p className="muted">{t('notifications.subscriptionsHelp')}</p>
      {subscriptions.length === 0 ? (
        <p className="muted">{t('notifications.noSubscriptions')}</p>
      ) : (
        <table className="table" data-testid="subscriptions">
          <TableHead columns={[t('notifications.environment'), t('notifications.events')]} actions={t('notifications.unsubscribe')} />
          <tbody>
            {subscriptions.map((subscription) => (
              <tr key={subscription.id}>
                <td>{subscription.environment}</td>
                <td>{subscription.events.map(eventName).join(', ')}</td>
                <td>
                  <Form method="post">
                    <input type="hidden" name="intent" value="unsubscribe" />
                    <input type="hidden" name="id" value={subscription.id} />
                    <button type="submit">{t('notifications.unsubscribe')}</button>
                  </Form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {environments.length > 0 ? (
        <Form method="post" className="stacked-form">
          <input type="hidden" name="intent" value="subscribe" />
          <label htmlFor="subscription-environment">{t('notifications.environment')}</label>
          <select id="subscription-environment" name="environment" defaultValue={shell.environment}>
            {environments.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
          <EventBoxes idPrefix="subscription" />
          <button type="submit">{t('notifications.subscribe')}</button>
        </Form>
      ) : null}

      {adminIn.length > 0 ? (
        <>
          <h2>{t('notifications.rules')}</h2>
          <p className="muted">{t('notifications.rulesHelp')}</p>
          {rules.length === 0 ? (
            <p className="muted">{t('notifications.noRules')}</p>
          ) : (
            <table className="table" data-testid="rules">
              <TableHead
                columns={[t('notifications.name'), t('notifications.environment'), t('notifications.events'), t('notifications.channel'), t('notifications.enabled')]}
                actions={t('notifications.deliveries')}
              />
              <tbody>
                {rules.map((entry) => (
                  <tr key={entry.id}>
                    <td>{entry.name}</td>
                    <td>{entry.environment}</td>
                    <td>{entry.events.map(eventName).join(', ')}</td>
                    <td>{entry.channel}</td>
                    <td>{entry.enabled ? '✓' : '—'}</td>
                    <td className="actions">
                      <Link to={`?rule=${encodeURIComponent(entry.id)}`}>{t('notifications.deliveries')}</Link>
                      <Form method="post">
                        <input type="hidden" name="intent" value="rule-test" />
                        <input type="hidden" name="id" value={entry.id} />
                        <button type="submit">{t('notifications.sendTest')}</button>
                      </Form>
                      <Form method="post">
                        <input type="hidden" name="intent" value="rule-delete" />
                        <input type="hidden" name="id" value={entry.id} />
                        <button type="submit" className="danger">
                          {t('notifications.delete')}
                        </button>
                      </Form>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <Form method="post" className="stacked-form">
            <input type="hidden" name="intent" value="rule" />
            <label htmlFor="rule-environment">{t('notifications.environment')}</label>
            <select id="rule-environment" name="environment" defaultValue={adminIn.includes(shell.environment) ? shell.environment : adminIn[0]}>
              {adminIn.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
            <label htmlFor="rule-name">{t('notifications.name')}</label>
            <input id="rule-name" name="name" required maxLength={100} />
            <EventBoxes idPrefix="rule" />
            <label htmlFor="rule-channel">{t('notifications.channel')}</label>
            <select id="rule-channel" name="connectionId" required>
              {channels
                .filter((channel) => adminIn.includes(channel.environment))
                .map((channel) => (
                  <option key={channel.id} value={channel.id}>
                    {channel.environment} / {channel.name} ({channel.type})
                  </option>
                ))}
            </select>
            <label htmlFor="rule-runbook">{t('notifications.runbook')}</label>
            <input id="rule-runbook" name="runbook" maxLength={100} />
            <label htmlFor="rule-recipient">{t('notifications.recipient')}</label>
            <input id="rule-recipient" name="recipient" maxLength={320} />
            <label htmlFor="rule-locale">{t('notifications.messageLanguage')}</label>
            <select id="rule-locale" name="locale" defaultValue={language}>
              <option value="en">{t('settings.languageName.en')}</option>
              <option value="pt-BR">{t('settings.languageName.pt-BR')}</option>
            </select>
            <button type="submit">{t('notifications.createRule')}</button>
          </Form>
          {adminIn.map((environment) => (
            <Form method="post" className="inline-form" key={environment}>
              <input type="hidden" name="intent" value="default" />
              <input type="hidden" name="environment" value={environment} />
              <label htmlFor={`default-${environment}`}>{t('notifications.defaultChannel', { environment })}</label>
              <select id={`default-${environment}`} name="connectionId" defaultValue={defaults.find((entry) => entry.environment === environment)?.connectionId ?? ''}>
                <option value="">{t('notifications.none')}</option>
                {channels
                  .filter((channel) => channel.environment === environment && channel.type === 'smtp')
                  .map((channel) => (
                    <option key={channel.id} value={channel.id}>
                      {channel.name}
                    </option>
                  ))}
              </select>
              <button type="submit">{t('notifications.save')}</button>
            </Form>
          ))}
        </>
      ) : null}

      <h2>{rule ? `${t('notifications.deliveries')}: ${rules.find((entry) => entry.id === rule)?.name ?? rule}` : t('notifications.recentDeliveries')}</h2>
      {deliveries.length === 0 ? (
        <p className="muted">{t('notifications.noDeliveries')}</p>
      ) : (
        <table className="table" data-testid="deliveries">
          <TableHead columns={[t('notifications.when'), t('notifications.events'), t('notifications.channel'), t('notifications.status'), t('notifications.attempts'), t('notifications.lastError')]} />
          <tbody>
            {deliveries.map((delivery) => (
              <tr key={delivery.id}>
                <td>{formatDateTime(language, delivery.sentAt ?? delivery.createdAt)}</td>
                <td>{delivery.runId ? <Link to={`/runs/${encodeURIComponent(delivery.runId)}`}>{eventName(delivery.kind)}</Link> : eventName(delivery.kind)}</td>
                <td>
                  {delivery.channel} {delivery.recipient ? `→ ${delivery.recipient}` : ''}
                </td>
                <td>{delivery.status}</td>
                <td>{delivery.attempts}</td>
                <td className="small">{delivery.lastError ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
