// A Compose file checked by the API as the user types on the Stacks page: the
// planned services, or every mistake with its place. Answers JSON for a fetcher.
import { data } from 'react-router';
import type { Route } from './+types/stack-validate.js';
import { ApiProblem, requireApi } from '../lib/api.server.js';
import { parseVariables, type StackValidation } from '../lib/stack-validation.js';

export async function action({ request }: Route.ActionArgs) {
  const api = await requireApi(request);
  const form = await request.formData();
  const files = JSON.parse(String(form.get('files') || '{}')) as Record<string, string>;
  try {
    const result = await api.send<StackValidation>('POST', '/stacks/validate', {
      name: String(form.get('name') ?? ''),
      stack: String(form.get('stack') ?? ''),
      variables: parseVariables(String(form.get('variables') ?? '')),
      files,
    });
    return data(result, { headers: api.headers });
  } catch (error) {
    if (!(error instanceof ApiProblem)) throw error;
    const errors = (error.problem.errors ?? []).map((entry) => ({ path: entry.path, message: entry.message ?? '' }));
    return data({ valid: false, errors: errors.length > 0 ? errors : [{ path: '(request)', message: error.problem.detail ?? error.problem.title ?? String(error.problem.status) }], warnings: [] } satisfies StackValidation, { headers: api.headers });
  }
}
