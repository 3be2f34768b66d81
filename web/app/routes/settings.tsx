// Settings: language, password, API tokens, TOTP enrolment, and (for admins)
// users (disable, reset a password), role grants, retention and environments.
import { data, Form, useLocation } from 'react-router';
import type { Route } from './+types/settings.js';
import { LANGUAGES, useLanguage, useT } from '../i18n/index.js';
import { ApiProblem, problemMessage, requireApi } from '../lib/api.server.js';
import { holdsAnywhere, useShell } from '../lib/shell-data.js';
import type { ConnectionView } from '../../../api/services/connection-service.js';
import { ApiTokenList, PasswordChange, PasswordReset, UserAccessToggle, UserSelect, type ApiTokenRow } from '../lib/account-settings.js';
import { TableHead } from '../lib/table-head.js';
import { RetentionSettings, retentionChange, type PurgeRow, type RetentionData } from '../lib/retention-settings.js';

const ROLES = ['admin', 'operator', 'approver', 'viewer'] as const;

interface UserRow {
  id: string;
  email: string;
  name: string;
  disabled: boolean;
  grants: Array<{ id?: string; environment: string; role: string }>;
}

type ConnectionRow = ConnectionView;

export async function loader({ request }: Route.LoaderArgs) {
  const api = await requireApi(request);
  const me = await api.get<{ grants: Array<{ role: string }> }>('/auth/me');
  const admin = me.grants.some((grant) => grant.role === 'admin');
  const [users, environments, connections, tokens, retention, purges] = await Promise.all([
    admin ? api.get<UserRow[]>('/users') : [],
    admin ? api.get<Array<{ name: string }>>('/environments') : [],
    api.get<ConnectionRow[]>('/connections'),
    api.get<ApiTokenRow[]>('/auth/api-tokens'),
    admin ? api.get<Omit<RetentionData, 'purges'>>('/admin/retention') : undefined,
    admin ? api.get<PurgeRow[]>('/admin/retention/purges?limit=10') : [],
  ]);
  const retentionData: RetentionData | undefined = retention ? { ...retention, purges } : undefined;
  return data({ users, environments: environments.map((environment) => environment.name), connections, tokens, retention: retentionData }, { headers: api.headers });
}

/** Reads the connection form's settings: a JSON object, or a problem to show. */
function parseConfig(text: string): Record<string, unknown> | string {
  if (!text.trim()) return {};
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : 'settings must be a JSON object';
  } catch (error) {
    return `settings are not valid JSON: ${(error as Error).message}`;
  }
}

type Done = 'token' | 'tokenRevoked' | 'password' | 'totpSetup' | 'totpEnabled' | 'user' | 'userReset' | 'userDisabled' | 'userEnabled' | 'grant' | 'environment' | 'connection' | 'connectionDeleted' | 'retention' | 'purge';
type Answer = { done?: Done; token?: string; secret?: string; uri?: string; error?: string; purged?: { runs: number; lines: number; dryRun: boolean } };

export async function action({ request }: Route.ActionArgs) {
  const api = await requireApi(request);
  const form = await request.formData();
  const field = (name: string) => String(form.get(name) ?? '').trim();
  try {
    switch (field('intent')) {
      case 'token': {
        // No expiry asked: the longest the API allows (JARVIS_API_TOKEN_MAX_TTL).
        const created = await api.send<{ token: string }>('POST', '/auth/api-tokens', { name: field('name') || 'web' });
        return data<Answer>({ done: 'token', token: created.token }, { headers: api.headers });
      }
      case 'token-revoke':
        await api.send('DELETE', `/auth/api-tokens/${encodeURIComponent(field('id'))}`);
        return data<Answer>({ done: 'tokenRevoked' }, { headers: api.headers });
      case 'password': {
        const newPassword = String(form.get('newPassword') ?? '');
        if (newPassword !== String(form.get('confirmPassword') ?? '')) return data<Answer>({ error: 'passwordMismatch' }, { status: 400, headers: api.headers });
        await api.send('POST', '/auth/password', { currentPassword: String(form.get('currentPassword') ?? ''), newPassword });
        return data<Answer>({ done: 'password' }, { headers: api.headers });
      }
      case 'user-reset':
        await api.send('POST', `/users/${encodeURIComponent(field('user'))}/password`, { password: String(form.get('password') ?? '') });
        return data<Answer>({ done: 'userReset' }, { headers: api.headers });
      case 'user-disable':
      case 'user-enable': {
        const disable = field('intent') === 'user-disable';
        await api.send('POST', `/users/${encodeURIComponent(field('user'))}/${disable ? 'disable' : 'enable'}`);
        return data<Answer>({ done: disable ? 'userDisabled' : 'userEnabled' }, { headers: api.headers });
      }
      case 'totp-setup': {
        const setup = await api.send<{ secret: string; uri: string }>('POST', '/auth/totp/setup');
        return data<Answer>({ done: 'totpSetup', secret: setup.secret, uri: setup.uri }, { headers: api.headers });
      }
      case 'totp-enable':
        await api.send('POST', '/auth/totp/enable', { code: field('code') });
        return data<Answer>({ done: 'totpEnabled' }, { headers: api.headers });
      case 'user':
        await api.send('POST', '/users', { email: field('email'), name: field('name'), password: String(form.get('password') ?? '') });
        return data<Answer>({ done: 'user' }, { headers: api.headers });
      case 'grant':
        await api.send('POST', `/users/${encodeURIComponent(field('user'))}/grants`, { environment: field('environment'), role: field('role') });
        return data<Answer>({ done: 'grant' }, { headers: api.headers });
      case 'environment':
        await api.send('POST', '/environments', { name: field('name') });
        return data<Answer>({ done: 'environment' }, { headers: api.headers });
      case 'connection': {
        const config = parseConfig(String(form.get('config') ?? ''));
        if (typeof config === 'string') return data<Answer>({ error: config }, { status: 400, headers: api.headers });
        const secret = String(form.get('secret') ?? '');
        await api.send('POST', '/connections', { environment: field('environment'), name: field('name'), type: field('type'), config, ...(secret ? { secret } : {}) });
        return data<Answer>({ done: 'connection' }, { headers: api.headers });
      }
      case 'retention':
        await api.send('PUT', `/environments/${encodeURIComponent(field('environment'))}/retention`, retentionChange(form));
        return data<Answer>({ done: 'retention' }, { headers: api.headers });
      case 'retention-purge': {
        const dryRun = field('dryRun') === 'true';
        const report = await api.send<PurgeRow>('POST', '/admin/retention/purge', { dryRun });
        return data<Answer>({ done: 'purge', purged: { runs: report.totals.runs, lines: report.totals.logLines, dryRun } }, { headers: api.headers });
      }
      case 'connection-delete':
        await api.send('DELETE', `/connections/${encodeURIComponent(field('id'))}`);
        return data<Answer>({ done: 'connectionDeleted' }, { headers: api.headers });
      default:
        return data<Answer>({ error: 'unknown action' }, { status: 400, headers: api.headers });
    }
  } catch (error) {
    if (!(error instanceof ApiProblem)) throw error;
    return data<Answer>({ error: problemMessage(error.problem) }, { status: error.problem.status, headers: api.headers });
  }
}

export default function Settings({ loaderData, actionData }: Route.ComponentProps) {
  const t = useT();
  const language = useLanguage();
  const shell = useShell();
  const location = useLocation();
  const { users, environments, connections, tokens, retention } = loaderData;
  const adminIn = shell.me.grants.filter((grant) => grant.role === 'admin').map((grant) => grant.environment);
  const answer = actionData as Answer | undefined;
  const admin = holdsAnywhere(shell.me, ['admin']);
  return (
    <section className="settings">
      <h1>{t('settings.title')}</h1>
      {answer?.error ? (
        <p className="error" role="alert">
          {answer.error === 'passwordMismatch' ? t('settings.passwordMismatch') : answer.error}
        </p>
      ) : null}
      {answer?.done ? (
        <p className="notice" role="status">
          {answer.purged
            ? t('settings.done.purge', { runs: answer.purged.runs, lines: answer.purged.lines, verb: t(answer.purged.dryRun ? 'settings.purge.wouldRemove' : 'settings.purge.removed') })
            : t(`settings.done.${answer.done}`)}
        </p>
      ) : null}

      <h2>{t('settings.language')}</h2>
      <Form method="post" action="/preferences" className="inline-form">
        <input type="hidden" name="returnTo" value={location.pathname} />
        <label htmlFor="language">{t('settings.languageLabel')}</label>
        <select id="language" name="language" defaultValue={language}>
          {LANGUAGES.map((code) => (
            <option key={code} value={code}>
              {t(`settings.languageName.${code}`)}
            </option>
          ))}
        </select>
        <button type="submit">{t('settings.save')}</button>
      </Form>

      <h2>{t('settings.tokens')}</h2>
      <p className="muted">{t('settings.tokensHelp')}</p>
      <Form method="post" className="inline-form">
        <input type="hidden" name="intent" value="token" />
        <label htmlFor="token-name">{t('settings.tokenName')}</label>
        <input id="token-name" name="name" required maxLength={100} />
        <button type="submit">{t('settings.createToken')}</button>
      </Form>
      {answer?.token ? (
        <p className="notice">
          {t('settings.tokenOnce')} <code data-testid="new-token">{answer.token}</code>
        </p>
      ) : null}
      <ApiTokenList tokens={tokens} />

      <PasswordChange />

      <h2>{t('settings.totp')}</h2>
      <p className="muted">{t('settings.totpHelp')}</p>
      {answer?.secret ? (
        <Form method="post" className="inline-form">
          <p>
            {t('settings.totpSecret')} <code>{answer.secret}</code>
          </p>
          <input type="hidden" name="intent" value="totp-enable" />
          <label htmlFor="totp-code">{t('settings.totpCode')}</label>
          <input id="totp-code" name="code" inputMode="numeric" pattern="[0-9]{6}" required />
          <button type="submit">{t('settings.totpEnable')}</button>
        </Form>
      ) : (
        <Form method="post">
          <input type="hidden" name="intent" value="totp-setup" />
          <button type="submit">{t('settings.totpStart')}</button>
        </Form>
      )}

      <h2>{t('settings.connections')}</h2>
      <p className="muted">{t('settings.connectionsHelp')}</p>
      {connections.length === 0 ? (
        <p className="muted">{t('settings.noConnections')}</p>
      ) : (
        <table className="table" data-testid="connections">
          <TableHead columns={[t('settings.name'), t('settings.connectionType'), t('settings.environment'), t('settings.connectionConfig'), t('settings.connectionSecret')]} actions={t('settings.actions')} />
          <tbody>
            {connections.map((connection) => (
              <tr key={connection.id}>
                <td>{connection.name}</td>
                <td>{connection.type}</td>
                <td>{connection.environment}</td>
                <td className="mono small">{JSON.stringify(connection.config)}</td>
                <td>{connection.hasSecret ? t('settings.secretStored') : '—'}</td>
                <td>
                  {adminIn.includes(connection.environment) ? (
                    <Form method="post">
                      <input type="hidden" name="intent" value="connection-delete" />
                      <input type="hidden" name="id" value={connection.id} />
                      <button type="submit" className="danger" aria-label={t('settings.deleteConnection', { name: connection.name })}>
                        {t('settings.delete')}
                      </button>
                    </Form>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {adminIn.length > 0 ? (
        <>
          <h3>{t('settings.newConnection')}</h3>
          <Form method="post" className="inline-form">
            <input type="hidden" name="intent" value="connection" />
            <label htmlFor="connection-environment">{t('settings.environment')}</label>
            <select id="connection-environment" name="environment" defaultValue={adminIn.includes(shell.environment) ? shell.environment : adminIn[0]}>
              {adminIn.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
            <label htmlFor="connection-name">{t('settings.name')}</label>
            <input id="connection-name" name="name" required pattern="[A-Za-z0-9][A-Za-z0-9._-]*" />
            <label htmlFor="connection-type">{t('settings.connectionType')}</label>
            <input id="connection-type" name="type" required placeholder="ssh, docker, postgres, http…" />
            <label htmlFor="connection-config">{t('settings.connectionConfig')}</label>
            <input id="connection-config" name="config" className="mono" placeholder='{"host": "10.0.0.5", "port": 22}' />
            <label htmlFor="connection-secret">{t('settings.connectionSecret')}</label>
            <input id="connection-secret" name="secret" type="password" autoComplete="new-password" />
            <button type="submit">{t('settings.createConnection')}</button>
          </Form>
        </>
      ) : null}

      {admin ? (
        <>
          <h2>{t('settings.users')}</h2>
          <table className="table">
            <TableHead columns={[t('settings.email'), t('settings.name'), t('settings.grants'), t('settings.userStatus')]} actions={t('settings.actions')} />
            <tbody>
              {users.map((user) => (
                <tr key={user.id} data-user={user.email}>
                  <td>{user.email}</td>
                  <td>{user.name}</td>
                  <td>{user.grants.map((grant) => `${grant.environment}: ${grant.role}`).join(', ')}</td>
                  <td>{t(user.disabled ? 'settings.userDisabled' : 'settings.userActive')}</td>
                  <td>
                    <UserAccessToggle user={user} self={user.id === shell.me.id} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <PasswordReset users={users.filter((user) => user.id !== shell.me.id)} />
          <h3>{t('settings.newUser')}</h3>
          <Form method="post" className="inline-form">
            <input type="hidden" name="intent" value="user" />
            <label htmlFor="user-email">{t('settings.email')}</label>
            <input id="user-email" name="email" type="email" required />
            <label htmlFor="user-name">{t('settings.name')}</label>
            <input id="user-name" name="name" required />
            <label htmlFor="user-password">{t('settings.password')}</label>
            <input id="user-password" name="password" type="password" minLength={12} required autoComplete="new-password" />
            <button type="submit">{t('settings.createUser')}</button>
          </Form>
          <h3>{t('settings.grantRole')}</h3>
          <Form method="post" className="inline-form">
            <input type="hidden" name="intent" value="grant" />
            <UserSelect id="grant-user" users={users} />
            <label htmlFor="grant-environment">{t('settings.environment')}</label>
            <select id="grant-environment" name="environment">
              {environments.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
            <label htmlFor="grant-role">{t('settings.role')}</label>
            <select id="grant-role" name="role">
              {ROLES.map((role) => (
                <option key={role} value={role}>
                  {t(`role.${role}`)}
                </option>
              ))}
            </select>
            <button type="submit">{t('settings.grant')}</button>
          </Form>
          {retention ? <RetentionSettings retention={retention} /> : null}
          <h2>{t('settings.environments')}</h2>
          <p>{environments.join(', ')}</p>
          <Form method="post" className="inline-form">
            <input type="hidden" name="intent" value="environment" />
            <label htmlFor="environment-name">{t('settings.environmentName')}</label>
            <input id="environment-name" name="name" required pattern="[A-Za-z0-9._-]+" />
            <button type="submit">{t('settings.createEnvironment')}</button>
          </Form>
        </>
      ) : null}
    </section>
  );
}
