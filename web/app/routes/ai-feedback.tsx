// Thumbs up or down on an AI answer (or a knowledge document), which weighs future retrieval.
import { data } from 'react-router';
import type { Route } from './+types/ai-feedback.js';
import { ApiProblem, requireApi } from '../lib/api.server.js';

export async function action({ request }: Route.ActionArgs) {
  const api = await requireApi(request);
  const form = await request.formData();
  const vote = String(form.get('vote') ?? '');
  if (vote !== 'up' && vote !== 'down') return data({ vote: undefined, error: `unknown vote "${vote}"` }, { status: 400, headers: api.headers });
  const answerId = String(form.get('answerId') ?? '');
  const documentId = String(form.get('documentId') ?? '');
  const reason = String(form.get('reason') ?? '').trim();
  try {
    await api.send('POST', '/ai/feedback', {
      environment: String(form.get('environment') ?? ''),
      ...(answerId ? { answerId } : { documentId }),
      vote,
      ...(reason ? { reason } : {}),
    });
    return data({ vote, error: undefined }, { headers: api.headers });
  } catch (error) {
    if (!(error instanceof ApiProblem)) throw error;
    return data({ vote: undefined, error: error.problem.detail ?? String(error.problem.status) }, { status: error.problem.status, headers: api.headers });
  }
}
