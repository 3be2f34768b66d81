import { ApplicationFailure } from '@temporalio/activity';
import type { ActionContext } from '../action.js';

export interface HttpCall {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: unknown;
  timeoutMs: number;
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  durationMs: number;
}

const KEPT_BODY_CHARS = 64_000;

/** One HTTP exchange for an action, cancelled with the step and cut at its timeout. */
export async function performHttpCall(call: HttpCall, context: ActionContext): Promise<HttpAnswer> {
  const started = Date.now();
  const signal = AbortSignal.any([context.signal, AbortSignal.timeout(call.timeoutMs)]);
  const headers = { ...call.headers };
  let body: string | undefined;
  if (call.body !== undefined) {
    body = typeof call.body === 'string' ? call.body : JSON.stringify(call.body);
    if (typeof call.body !== 'string' && !Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) {
      headers['content-type'] = 'application/json';
    }
  }
  context.log('system', `${call.method} ${call.url}`);
  let response: Response;
  try {
    response = await fetch(call.url, { method: call.method, headers, body, signal, redirect: 'follow' });
  } catch (error) {
    const reason = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
    throw ApplicationFailure.retryable(`${call.method} ${call.url} failed: ${reason}`, 'HttpRequestFailed');
  }
  const text = await response.text();
  const answer = {
    status: response.status,
    headers: Object.fromEntries(response.headers.entries()),
    body: text.length > KEPT_BODY_CHARS ? text.slice(0, KEPT_BODY_CHARS) : text,
    durationMs: Date.now() - started,
  };
  context.log('system', `${response.status} ${response.statusText} in ${answer.durationMs} ms`);
  return answer;
}

export function parseJsonBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}
