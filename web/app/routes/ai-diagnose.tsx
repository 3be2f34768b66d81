// Diagnoses a failed run (form field runId) or a described problem
// (environment and text) through the API, for the run page and the AI page.
import { data } from 'react-router';
import type { Route } from './+types/ai-diagnose.js';
import { ApiProblem, requireApi } from '../lib/api.server.js';
import type { Diagnosis } from '../lib/ai-types.js';

export async function action({ request }: Route.ActionArgs) {
  const api = await requireApi(request);
  const form = await request.formData();
  const runId = String(form.get('runId') ?? '').trim();
  const body = runId ? { runId } : { environment: String(form.get('environment') ?? ''), text: String(form.get('text') ?? '').trim() };
  try {
    return data({ diagnosis: await api.send<Diagnosis>('POST', '/ai/diagnose', body), error: undefined }, { headers: api.headers });
  } catch (error) {
    if (!(error instanceof ApiProblem)) throw error;
    return data({ diagnosis: undefined, error: error.problem.detail ?? error.problem.title ?? String(error.problem.status) }, { status: error.problem.status, headers: api.headers });
  }
}
