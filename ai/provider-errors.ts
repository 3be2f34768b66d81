// Errors of the model provider. Every failure from the SDK is turned into one
// of these with the API key removed from its message: a provider's error body
// may echo the key it was sent, and errors end up in logs, run histories and
// HTTP answers. The SDK's own error is never attached as `cause`, because it
// carries the raw response.
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';

export class AiNotConfiguredError extends Error {
  override name = 'AiNotConfiguredError';
}

/** A request to the model API failed: refused, rate limited past the retries, unreachable or timed out. */
export class AiProviderError extends Error {
  override name = 'AiProviderError';
  constructor(
    message: string,
    /** The HTTP status the API answered, when it answered. */
    readonly status: number | undefined,
    /** The API's error code, e.g. "invalid_api_key", "rate_limit_exceeded". */
    readonly code: string | undefined,
    /** How many requests were made, retries included. */
    readonly attempts: number,
  ) {
    super(message);
  }
}

/** The model answered, but not with what was asked for (not JSON, or JSON that does not fit the schema). */
export class AiOutputError extends Error {
  override name = 'AiOutputError';
  constructor(
    message: string,
    /** The model's answer as received, to show or audit. */
    readonly rawAnswer: string,
    readonly issues: string[] = [],
  ) {
    super(message);
  }
}

const REDACTED_KEY = '[redacted api key]';

export function redactSecret(text: string, secret: string | undefined): string {
  // Very short "keys" (placeholders for keyless servers) would redact ordinary words.
  if (!secret || secret.length < 6) return text;
  return text.split(secret).join(REDACTED_KEY);
}

/** Whether a failed request is worth repeating: rate limits, server errors, timeouts, lost connections. */
export function isRetryableFailure(error: unknown): boolean {
  if (error instanceof APIUserAbortError) return false;
  if (error instanceof APIConnectionError) return true;
  if (error instanceof APIError && error.status !== undefined) {
    return error.status === 408 || error.status === 409 || error.status === 429 || error.status >= 500;
  }
  return false;
}

/** The delay the API asked for (retry-after-ms, retry-after in seconds or as a date), if any. */
export function requestedRetryDelayMs(error: unknown): number | undefined {
  if (!(error instanceof APIError) || !error.headers) return undefined;
  const milliseconds = Number.parseFloat(error.headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(milliseconds)) return Math.max(0, milliseconds);
  const header = error.headers.get('retry-after');
  if (!header) return undefined;
  const seconds = Number.parseFloat(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1_000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function apiErrorCode(error: APIError): string | undefined {
  return typeof error.code === 'string' ? error.code : undefined;
}

/** Turns anything thrown by the SDK into an AiProviderError whose message cannot hold the key. */
export function toProviderError(error: unknown, apiKey: string | undefined, attempts: number): Error {
  if (error instanceof AiProviderError || error instanceof AiOutputError || error instanceof AiNotConfiguredError) return error;
  const clean = (text: string) => redactSecret(text, apiKey);
  if (error instanceof APIConnectionTimeoutError) {
    return new AiProviderError(`the model API did not answer in time (${attempts} attempt(s))`, undefined, 'timeout', attempts);
  }
  if (error instanceof APIUserAbortError) return new AiProviderError('the model request was cancelled', undefined, 'aborted', attempts);
  if (error instanceof APIConnectionError) {
    return new AiProviderError(`the model API could not be reached (${attempts} attempt(s)): ${clean(error.message)}`, undefined, 'connection', attempts);
  }
  if (error instanceof APIError) {
    const status = error.status;
    const what = status === 401 ? 'refused the API key' : status === 429 ? 'rate limited the request' : `answered ${status ?? 'with an error'}`;
    return new AiProviderError(`the model API ${what} (${attempts} attempt(s)): ${clean(error.message)}`, status, apiErrorCode(error), attempts);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new AiProviderError(`the model request failed: ${clean(message)}`, undefined, undefined, attempts);
}
