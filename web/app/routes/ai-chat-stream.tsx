// The chat's answer streamed to the browser: the API's server-sent events
// passed through as they come, called with the session's token so the browser
// never holds it. The browser posts {environment, runId?, messages}.
import { data } from 'react-router';
import type { Route } from './+types/ai-chat-stream.js';
import { z } from 'zod';
import { ApiProblem, requireApi } from '../lib/api.server.js';

const ChatRequest = z.object({
  environment: z.string().min(1),
  runId: z.string().min(1).optional(),
  messages: z
    .array(z.object({ role: z.enum(['user', 'assistant']), content: z.string().min(1).max(8_000) }))
    .min(1)
    .max(50),
});

export async function action({ request }: Route.ActionArgs) {
  const api = await requireApi(request);
  const parsed = ChatRequest.safeParse(await request.json().catch(() => undefined));
  if (!parsed.success) return data({ status: 400, detail: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ') }, { status: 400, headers: api.headers });
  try {
    // The browser going away (request.signal) stops the model's answer upstream too.
    const upstream = await api.stream('/ai/chat', parsed.data, request.signal);
    const headers = new Headers(api.headers);
    headers.set('content-type', 'text/event-stream; charset=utf-8');
    headers.set('cache-control', 'no-cache, no-transform');
    headers.set('x-accel-buffering', 'no');
    return new Response(upstream.body, { status: 200, headers });
  } catch (error) {
    if (!(error instanceof ApiProblem)) throw error;
    return data(error.problem, { status: error.problem.status, headers: api.headers });
  }
}
