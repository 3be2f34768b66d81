import { data, Form, redirect, useNavigation, useSearchParams } from 'react-router';
import type { Route } from './+types/login.js';
import { useT } from '../i18n/index.js';
import { ApiProblem, logIn, startSession } from '../lib/api.server.js';
import { safeRedirectPath } from '../lib/safe-redirect.js';
import { sessionStorage } from '../lib/session.server.js';

export const meta: Route.MetaFunction = () => [{ title: 'Jarvis' }];

/** The API's words for "this account needs its one-time code" (api/services/auth-service.ts). */
const TOTP_REQUIRED = 'a one-time code from your authenticator app is required';

export async function loader({ request }: Route.LoaderArgs) {
  const session = await sessionStorage.getSession(request.headers.get('cookie'));
  if (session.get('accessToken')) throw redirect('/dashboard');
  return null;
}

type LoginError = 'invalid' | 'totp' | 'totpInvalid' | 'tooMany' | 'unavailable' | 'missing';

export async function action({ request }: Route.ActionArgs) {
  const form = await request.formData();
  const email = String(form.get('email') ?? '').trim();
  const password = String(form.get('password') ?? '');
  const totp = String(form.get('totp') ?? '').trim();
  const remember = form.get('remember') === 'on';
  if (!email || !password) return data({ error: 'missing' as LoginError, email, askTotp: Boolean(totp) }, { status: 400 });
  try {
    const tokens = await logIn(request, email, password, totp || undefined);
    const cookie = await startSession(request, email, tokens, remember);
    return redirect(safeRedirectPath(new URL(request.url).searchParams.get('next')), { headers: { 'set-cookie': cookie } });
  } catch (error) {
    if (!(error instanceof ApiProblem)) return data({ error: 'unavailable' as LoginError, email, askTotp: false }, { status: 503 });
    const { status, detail } = error.problem;
    if (status === 429) return data({ error: 'tooMany' as LoginError, email, askTotp: Boolean(totp) }, { status });
    if (status === 401 && detail === TOTP_REQUIRED) return data({ error: 'totp' as LoginError, email, askTotp: true }, { status });
    if (status === 401 || status === 400) return data({ error: (totp ? 'totpInvalid' : 'invalid') as LoginError, email, askTotp: Boolean(totp) }, { status: 401 });
    return data({ error: 'unavailable' as LoginError, email, askTotp: false }, { status: 503 });
  }
}

export default function Login({ actionData: answer }: Route.ComponentProps) {
  const t = useT();
  const navigation = useNavigation();
  const [params] = useSearchParams();
  const busy = navigation.state !== 'idle';
  const forgot = params.get('forgot') === '1';
  return (
    <div className="login">
      <section className="login-hero" aria-hidden="true">
        <div className="login-orbit">
          <span className="orbit-ring" />
          <span className="orbit-ring second" />
          <span className="orbit-core" />
        </div>
        <div className="login-hero-text">
          <p className="eyebrow">{t('login.heroEyebrow')}</p>
          <h2>{t('login.heroTitle')}</h2>
          <p>{t('login.heroText')}</p>
        </div>
      </section>
      <section className="login-panel">
        <Form method="post" className="login-card glass" replace>
          <div className="logo">
            <span className="logo-mark" aria-hidden="true" />
            <span>Jarvis</span>
          </div>
          <h1>{t('login.title')}</h1>
          {forgot ? (
            <p className="notice" role="status">
              {t('login.forgotHelp')}
            </p>
          ) : null}
          {answer?.error ? (
            <p className="error" role="alert">
              {t(`login.error.${answer.error}`)}
            </p>
          ) : null}
          <label htmlFor="email">{t('login.email')}</label>
          <input id="email" name="email" type="email" autoComplete="username" required defaultValue={answer?.email ?? ''} autoFocus />
          <label htmlFor="password">{t('login.password')}</label>
          <input id="password" name="password" type="password" autoComplete="current-password" required />
          {answer?.askTotp ? (
            <>
              <label htmlFor="totp">{t('login.totp')}</label>
              <input id="totp" name="totp" inputMode="numeric" pattern="[0-9]{6}" autoComplete="one-time-code" required autoFocus />
            </>
          ) : null}
          <div className="login-row">
            <label className="checkbox">
              <input type="checkbox" name="remember" /> {t('login.remember')}
            </label>
            <a href="/login?forgot=1">{t('login.forgot')}</a>
          </div>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? t('login.signingIn') : t('login.submit')}
          </button>
        </Form>
      </section>
    </div>
  );
}
