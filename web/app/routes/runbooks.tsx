import { data, Form, Link, useSearchParams } from 'react-router';
import type { Route } from './+types/runbooks.js';
import { useT } from '../i18n/index.js';
import { requireApi } from '../lib/api.server.js';

interface RunbookSummary {
  name: string;
  title: string;
  description: string;
  category: string;
  tags: string[];
  valid: boolean;
}

export async function loader({ request }: Route.LoaderArgs) {
  const api = await requireApi(request);
  const url = new URL(request.url);
  const query = new URLSearchParams();
  for (const key of ['category', 'q']) {
    const value = url.searchParams.get(key);
    if (value) query.set(key, value);
  }
  const [runbooks, all] = await Promise.all([api.get<RunbookSummary[]>(`/runbooks?${query}`), api.get<RunbookSummary[]>('/runbooks')]);
  const categories = [...new Set(all.map((runbook) => runbook.category))].sort();
  return data({ runbooks, categories }, { headers: api.headers });
}

export default function Runbooks({ loaderData }: Route.ComponentProps) {
  const t = useT();
  const { runbooks, categories } = loaderData;
  const [params] = useSearchParams();
  return (
    <section>
      <h1>{t('runbooks.title')}</h1>
      <Form method="get" className="filters" role="search">
        <label htmlFor="runbook-search">{t('runbooks.search')}</label>
        <input id="runbook-search" name="q" type="search" defaultValue={params.get('q') ?? ''} />
        <label htmlFor="runbook-category">{t('runbooks.category')}</label>
        <select id="runbook-category" name="category" defaultValue={params.get('category') ?? ''}>
          <option value="">{t('runbooks.allCategories')}</option>
          {categories.map((category) => (
            <option key={category} value={category}>
              {category}
            </option>
          ))}
        </select>
        <button type="submit">{t('runbooks.filter')}</button>
      </Form>
      {runbooks.length === 0 ? <p className="muted">{t('runbooks.none')}</p> : null}
      <ul className="cards">
        {runbooks.map((runbook) => (
          <li key={runbook.name} className="card">
            <h2>
              <Link to={`/runbooks/${encodeURIComponent(runbook.name)}`}>{runbook.title}</Link>
            </h2>
            <p className="muted mono">{runbook.name}</p>
            <p>{runbook.description}</p>
            <p className="tags">
              <span className="tag category">{runbook.category}</span>
              {runbook.tags.map((tag) => (
                <span key={tag} className="tag">
                  {tag}
                </span>
              ))}
              {!runbook.valid ? <span className="tag danger">{t('runbooks.invalid')}</span> : null}
            </p>
          </li>
        ))}
      </ul>
    </section>
  );
}
