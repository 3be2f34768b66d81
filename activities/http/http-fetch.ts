import { ApplicationFailure } from '@temporalio/activity';
import type { ActionContext, ActionDependencies } from '../action.js';
import { emptyAllowlist } from './egress-policy.js';
import { BadRedirectError, EgressRefusedError, guardedRequest } from './guarded-request.js';

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

/**
 * One HTTP exchange for an action, cancelled with the step and cut at its
 * timeout. It reaches public addresses, and others only when the run
 * environment's egress allowlist names them (see guarded-request.ts).
 */
export async function performHttpCall(call: HttpCall, context: ActionContext, deps: Pick<ActionDependencies, 'egress'>): Promise<HttpAnswer> {
  const started = Date.now();
  const environment = context.step.environment;
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
  let allowlist = emptyAllowlist(environment);
  if (deps.egress) {
    try {
      allowlist = await deps.egress.allowlist(environment);
    } catch (error) {
      throw ApplicationFailure.retryable(`could not read the egress allowlist of ${environment}: ${error instanceof Error ? error.message : String(error)}`, 'EgressAllowlistUnavailable');
    }
  }
  let response: Awaited<ReturnType<typeof guardedRequest>>;
  try {
    response = await guardedRequest({ url: call.url, method: call.method, headers, ...(body !== undefined ? { body } : {}), signal, allowlist });
  } catch (error) {
    if (error instanceof EgressRefusedError) throw ApplicationFailure.nonRetryable(`${call.method} ${call.url} refused: ${error.message}`, 'EgressRefused');
    if (error instanceof BadRedirectError) throw ApplicationFailure.nonRetryable(`${call.method} ${call.url} failed: ${error.message}`, 'BadRedirect');
    const reason = signal.aborted && signal.reason instanceof DOMException && signal.reason.name === 'TimeoutError' ? `no answer within ${call.timeoutMs} ms` : describeError(error);
    throw ApplicationFailure.retryable(`${call.method} ${call.url} failed: ${reason}`, 'HttpRequestFailed');
  }
  const answer = {
    status: response.status,
    headers: response.headers,
    body: response.body.length > KEPT_BODY_CHARS ? response.body.slice(0, KEPT_BODY_CHARS) : response.body,
    durationMs: Date.now() - started,
  };
  const redirected = response.url === new URL(call.url).href ? '' : ` (from ${response.url})`;
  context.log('system', `${response.status} ${response.statusText} in ${answer.durationMs} ms${redirected}`);
  return answer;
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? error.cause.message : error.message;
}

export function parseJsonBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}
