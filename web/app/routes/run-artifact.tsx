// One artifact of a run, streamed from the API with the user's session (the
// API decides who may read it; the browser never holds an API token).
import type { Route } from './+types/run-artifact.js';
import { requireApi } from '../lib/api.server.js';

const PASSED_ON = ['content-type', 'content-length', 'content-disposition', 'x-checksum-sha256', 'etag', 'x-content-type-options', 'cache-control'];

export async function loader({ request, params }: Route.LoaderArgs) {
  const api = await requireApi(request);
  const answer = await api.downloadStream(`/runs/${encodeURIComponent(params.id ?? '')}/artifacts/${encodeURIComponent(params.artifactId ?? '')}`);
  const headers = new Headers(api.headers);
  for (const name of PASSED_ON) {
    const value = answer.headers.get(name);
    if (value) headers.set(name, value);
  }
  return new Response(answer.body, { headers });
}
