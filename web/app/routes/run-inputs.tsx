// A run's inputs (secret ones masked), to show and to compare with another run.
import { data } from 'react-router';
import type { Route } from './+types/run-inputs.js';
import { ApiProblem, requireApi } from '../lib/api.server.js';

export async function loader({ request, params }: Route.LoaderArgs) {
  const api = await requireApi(request);
  try {
    return data(await api.get<{ runbook: string; inputs: Record<string, unknown> }>(`/runs/${encodeURIComponent(params.id ?? '')}/inputs`), { headers: api.headers });
  } catch (error) {
    if (!(error instanceof ApiProblem)) throw error;
    return data({ error: error.problem.detail ?? String(error.problem.status) }, { status: error.problem.status, headers: api.headers });
  }
}
