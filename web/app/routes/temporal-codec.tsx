// The codec endpoint Temporal's web UI calls (TEMPORAL_CODEC_ENDPOINT, with
// credentials): the browser sends its Jarvis session cookie, which the web
// server turns into the user's API token for the API's codec routes. The API
// decides who may decode what.
import { data } from 'react-router';
import type { Route } from './+types/temporal-codec.js';
import { ApiProblem, requireApi } from '../lib/api.server.js';

export async function action({ request, params }: Route.ActionArgs) {
  const operation = params.operation;
  if (request.method !== 'POST' || (operation !== 'decode' && operation !== 'encode')) return data({ title: 'not found' }, { status: 404 });
  const api = await requireApi(request).catch((thrown: unknown) => {
    // The UI calls this with fetch: a redirect to the sign-in page would be decoded as payloads.
    if (thrown instanceof Response) throw data({ title: 'sign in to Jarvis first' }, { status: 401 });
    throw thrown;
  });
  try {
    return data(await api.send<object>('POST', `/codec/${operation}`, await request.json()), { headers: api.headers });
  } catch (error) {
    if (error instanceof ApiProblem) return data(error.problem, { status: error.problem.status });
    throw error;
  }
}
