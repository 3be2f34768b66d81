// Retries of model requests: rate limits (429), server errors (5xx), timeouts
// and lost connections are tried again with exponential backoff and jitter;
// anything else (400, 401, 404, ...) fails at once. A delay the API asks for
// (retry-after) is honoured up to a ceiling, so one answer cannot park a
// diagnosis for an hour. The SDK's own retries are off so that this is the
// one policy and the number of attempts is known for accounting.
import { isRetryableFailure, requestedRetryDelayMs } from './provider-errors.js';

export interface RetryPolicy {
  maxRetries: number;
  /** First backoff delay; doubles on each retry. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** The longest retry-after that is waited out; a longer one is cut to this. */
  maxRequestedDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: Omit<RetryPolicy, 'maxRetries'> = { baseDelayMs: 500, maxDelayMs: 8_000, maxRequestedDelayMs: 30_000 };

export class RetriesExhaustedError extends Error {
  override name = 'RetriesExhaustedError';
  constructor(
    readonly lastError: unknown,
    readonly attempts: number,
  ) {
    super('model request failed');
  }
}

function backoffDelayMs(policy: RetryPolicy, retry: number): number {
  const exponential = Math.min(policy.baseDelayMs * 2 ** retry, policy.maxDelayMs);
  // Up to a quarter less, so clients that failed together do not retry together.
  return exponential * (1 - Math.random() * 0.25);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `attempt` until it succeeds, fails in a way not worth retrying, or the retries are used up. */
export async function withRetries<T>(attempt: () => Promise<T>, policy: RetryPolicy, log: (line: string) => void = () => {}): Promise<{ value: T; attempts: number }> {
  for (let attempts = 1; ; attempts += 1) {
    try {
      return { value: await attempt(), attempts };
    } catch (error) {
      const retriesLeft = policy.maxRetries - (attempts - 1);
      if (retriesLeft <= 0 || !isRetryableFailure(error)) throw new RetriesExhaustedError(error, attempts);
      const requested = requestedRetryDelayMs(error);
      const delay = requested === undefined ? backoffDelayMs(policy, attempts - 1) : Math.min(requested, policy.maxRequestedDelayMs);
      const status = (error as { status?: number }).status;
      log(`model request failed (${status ?? 'no answer'}), retrying in ${Math.round(delay)} ms (${retriesLeft} retries left)`);
      await sleep(delay);
    }
  }
}
