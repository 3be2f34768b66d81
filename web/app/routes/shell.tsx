// The signed-in layout: sidebar, header (environment, infrastructure light,
// pending approvals, user and sign-out) and the page.
import { data, Form, NavLink, Outlet, useLocation, type ShouldRevalidateFunction } from 'react-router';
import type { Route } from './+types/shell.js';
import { useT, type MessageKey } from '../i18n/index.js';
import { readiness, requireApi } from '../lib/api.server.js';
import { selectedEnvironment, webConfig } from '../lib/session.server.js';
import { holdsAnywhere, rolesIn, useShell, type Role, type ShellData } from '../lib/shell-data.js';

export async function loader({ request }: Route.LoaderArgs) {
  const api = await requireApi(request);
  const [me, ready, approvals] = await Promise.all([
    api.get<ShellData['me']>('/auth/me'),
    readiness(),
    api.get<Array<{ canDecide: boolean }>>('/approvals').catch(() => []),
  ]);
  const { environments, environment } = await selectedEnvironment(request, me.grants);
  const shell: ShellData = {
    me,
    environments,
    environment,
    readiness: ready,
    pendingApprovals: approvals.filter((entry) => entry.canDecide).length,
    temporalUiUrl: webConfig.temporalUiUrl,
    namespace: webConfig.namespace,
  };
  return data(shell, { headers: api.headers });
}

// Page changes re-check the approvals count and the infrastructure light.
export const shouldRevalidate: ShouldRevalidateFunction = () => true;

const ANY_ROLE: Role[] = ['admin', 'operator', 'approver', 'viewer'];

/** `inSelected`: the roles must be held in the environment the header selects, not just anywhere. */
const NAVIGATION: Array<{ to: string; label: MessageKey; roles?: Role[]; inSelected?: boolean }> = [
  { to: '/dashboard', label: 'nav.dashboard' },
  { to: '/runbooks', label: 'nav.runbooks' },
  { to: '/runs', label: 'nav.runs' },
  // Reports count only runs of the environments a user may read.
  { to: '/reports', label: 'nav.reports', roles: ANY_ROLE },
  // Schedules are listed for the environments a user holds a role in.
  { to: '/schedules', label: 'nav.schedules', roles: ANY_ROLE },
  { to: '/approvals', label: 'nav.approvals', roles: ['approver', 'admin'] },
  { to: '/containers', label: 'nav.containers' },
  { to: '/stacks', label: 'nav.stacks' },
  // Nodes are readable with any role; someone without one sees no inventory at all.
  { to: '/infra', label: 'nav.infra', roles: ['admin', 'operator', 'approver', 'viewer'] },
  // AI answers draw on the selected environment's runs and knowledge.
  // Triggers are listed per environment: the selected one.
  { to: '/triggers', label: 'nav.triggers', roles: ANY_ROLE, inSelected: true },
  { to: '/ai', label: 'nav.ai', roles: ANY_ROLE, inSelected: true },
  { to: '/notifications', label: 'nav.notifications' },
  // Every user is a member of the cooperative.
  { to: '/cooperative', label: 'nav.cooperative' },
  { to: '/settings', label: 'nav.settings' },
];

export default function Shell() {
  const t = useT();
  const shell = useShell();
  const location = useLocation();
  const ready = shell.readiness.status === 'ready';
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        {t('nav.skip')}
      </a>
      <aside className="sidebar">
        <div className="logo">
          <span className="logo-mark" aria-hidden="true" />
          <span>Jarvis</span>
        </div>
        <nav aria-label={t('nav.label')}>
          {NAVIGATION.filter((entry) => !entry.roles || (entry.inSelected ? rolesIn(shell.me, shell.environment).some((role) => entry.roles!.includes(role)) : holdsAnywhere(shell.me, entry.roles))).map((entry) => (
            <NavLink key={entry.to} to={entry.to} className={({ isActive }) => (isActive ? 'active' : undefined)} prefetch="intent">
              {t(entry.label)}
              {entry.to === '/approvals' && shell.pendingApprovals > 0 ? <span className="badge">{shell.pendingApprovals}</span> : null}
            </NavLink>
          ))}
        </nav>
      </aside>
      <div className="main-column">
        <header className="topbar">
          <Form method="post" action="/preferences" className="environment-picker">
            <input type="hidden" name="returnTo" value={location.pathname + location.search} />
            <label htmlFor="environment">{t('header.environment')}</label>
            <select id="environment" name="environment" defaultValue={shell.environment} onChange={(event) => event.currentTarget.form?.requestSubmit()}>
              {shell.environments.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
            <noscript>
              <button type="submit">{t('header.apply')}</button>
            </noscript>
          </Form>
          <span className={`status-light ${ready ? 'ok' : 'down'}`} role="status" title={ready ? t('header.infraOk') : t('header.infraDown')}>
            <span className="dot" aria-hidden="true" />
            {ready ? t('header.infraOk') : t('header.infraDown')}
          </span>
          <NavLink to="/approvals" className="approvals-count" aria-label={t('header.pendingApprovals', { count: shell.pendingApprovals })}>
            {t('header.approvalsShort')} <span className="badge">{shell.pendingApprovals}</span>
          </NavLink>
          <span className="user" data-testid="signed-in-user">
            {shell.me.email}
          </span>
          <Form method="post" action="/logout">
            <button type="submit" className="ghost">
              {t('header.signOut')}
            </button>
          </Form>
        </header>
        <main id="main" tabIndex={-1}>
          <Outlet />
        </main>
      </div>
    </div>
  );
}
