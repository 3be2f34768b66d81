import { useEffect } from 'react';
import { isRouteErrorResponse, Links, Meta, Outlet, Scripts, ScrollRestoration } from 'react-router';
import type { Route } from './+types/root.js';
import { pickLanguage, translate, useLanguage } from './i18n/index.js';
import { languageCookie } from './lib/session.server.js';
import './styles.css';

export async function loader({ request }: Route.LoaderArgs) {
  const chosen = (await languageCookie.parse(request.headers.get('cookie'))) as string | null;
  return { language: pickLanguage(chosen, request.headers.get('accept-language')) };
}

export function Layout({ children }: { children: React.ReactNode }) {
  const language = useLanguage();
  return (
    <html lang={language} data-theme="dark">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="dark" />
        <link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Ccircle cx='16' cy='16' r='14' fill='%2338bdf8'/%3E%3C/svg%3E" />
        <Meta />
        <Links />
      </head>
      <body>
        {children}
        <ScrollRestoration />
        <Scripts />
      </body>
    </html>
  );
}

export default function App() {
  // Marks the page interactive once React has hydrated it (browser tests and bench:web wait for it).
  useEffect(() => {
    document.documentElement.dataset.hydrated = 'true';
  }, []);
  return <Outlet />;
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  const language = useLanguage();
  const status = isRouteErrorResponse(error) ? error.status : 500;
  const detail = isRouteErrorResponse(error) ? String(error.data ?? error.statusText) : error instanceof Error ? error.message : '';
  return (
    <main className="error-page">
      <h1>{status === 404 ? translate(language, 'error.notFound') : translate(language, 'error.title')}</h1>
      {detail ? <p className="muted">{detail}</p> : null}
      <a href="/dashboard">{translate(language, 'error.back')}</a>
    </main>
  );
}
