// The settings page's sections about credentials: your password and API
// tokens, and (for admins) another user's password and whether they may sign in.
import { Form } from 'react-router';
import { formatDateTime, useLanguage, useT } from '../i18n/index.js';
import { TableHead } from './table-head.js';

export interface ApiTokenRow {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  expiresAt: string;
  lastUsedAt: string | null;
}

export function ApiTokenList({ tokens }: { tokens: ApiTokenRow[] }) {
  const t = useT();
  const language = useLanguage();
  if (tokens.length === 0) return <p className="muted">{t('settings.noTokens')}</p>;
  return (
    <table className="table" data-testid="api-tokens">
      <TableHead columns={[t('settings.name'), t('settings.tokenPrefix'), t('settings.tokenCreated'), t('settings.tokenExpires'), t('settings.tokenLastUsed')]} actions={t('settings.actions')} />
      <tbody>
        {tokens.map((token) => (
          <tr key={token.id} data-token={token.id}>
            <td>{token.name}</td>
            <td className="mono">{token.prefix}…</td>
            <td>{formatDateTime(language, token.createdAt)}</td>
            <td>{formatDateTime(language, token.expiresAt)}</td>
            <td>{token.lastUsedAt ? formatDateTime(language, token.lastUsedAt) : t('settings.tokenNeverUsed')}</td>
            <td>
              <Form method="post">
                <input type="hidden" name="intent" value="token-revoke" />
                <input type="hidden" name="id" value={token.id} />
                <button type="submit" className="danger" aria-label={t('settings.revokeToken', { name: token.name })}>
                  {t('settings.revoke')}
                </button>
              </Form>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function PasswordChange() {
  const t = useT();
  return (
    <>
      <h2>{t('settings.passwordChange')}</h2>
      <p className="muted">{t('settings.passwordChangeHelp')}</p>
      <Form method="post" className="inline-form">
        <input type="hidden" name="intent" value="password" />
        <label htmlFor="current-password">{t('settings.currentPassword')}</label>
        <input id="current-password" name="currentPassword" type="password" autoComplete="current-password" required />
        <label htmlFor="new-password">{t('settings.password')}</label>
        <input id="new-password" name="newPassword" type="password" autoComplete="new-password" minLength={12} required />
        <label htmlFor="confirm-password">{t('settings.confirmPassword')}</label>
        <input id="confirm-password" name="confirmPassword" type="password" autoComplete="new-password" minLength={12} required />
        <button type="submit">{t('settings.changePassword')}</button>
      </Form>
    </>
  );
}

/** An admin's row actions for one user: disable or enable. */
export function UserAccessToggle({ user, self }: { user: { id: string; email: string; disabled: boolean }; self: boolean }) {
  const t = useT();
  if (self) return null;
  return (
    <Form method="post">
      <input type="hidden" name="intent" value={user.disabled ? 'user-enable' : 'user-disable'} />
      <input type="hidden" name="user" value={user.id} />
      <button type="submit" className={user.disabled ? undefined : 'danger'} aria-label={t(user.disabled ? 'settings.enableUser' : 'settings.disableUser', { email: user.email })}>
        {t(user.disabled ? 'settings.enable' : 'settings.disable')}
      </button>
    </Form>
  );
}

/** A labelled choice of user, sent as the form's `user` field (their id). */
export function UserSelect({ id, users }: { id: string; users: Array<{ id: string; email: string }> }) {
  const t = useT();
  return (
    <>
      <label htmlFor={id}>{t('settings.user')}</label>
      <select id={id} name="user">
        {users.map((user) => (
          <option key={user.id} value={user.id}>
            {user.email}
          </option>
        ))}
      </select>
    </>
  );
}

export function PasswordReset({ users }: { users: Array<{ id: string; email: string }> }) {
  const t = useT();
  return (
    <>
      <h3>{t('settings.resetPassword')}</h3>
      <p className="muted">{t('settings.resetPasswordHelp')}</p>
      <Form method="post" className="inline-form">
        <input type="hidden" name="intent" value="user-reset" />
        <UserSelect id="reset-user" users={users} />
        <label htmlFor="reset-password">{t('settings.password')}</label>
        <input id="reset-password" name="password" type="password" minLength={12} required autoComplete="new-password" />
        <button type="submit" className="danger">
          {t('settings.resetPasswordSubmit')}
        </button>
      </Form>
    </>
  );
}
