// Waiting in tests: poll until a condition holds, or fail with what was awaited.
// A wait that runs out must fail the test, never fall through to assertions
// that then pass or fail for the wrong reason.

export interface WaitOptions {
  /** What is awaited, for the error: "timed out after 30000 ms waiting for <message>". */
  message: string;
  timeoutMs?: number;
  intervalMs?: number;
}

/** Polls `probe` until it returns a truthy value, and returns that value; throws once `timeoutMs` has passed. */
export async function waitFor<T>(probe: () => T | Promise<T>, { message, timeoutMs = 30_000, intervalMs = 100 }: WaitOptions): Promise<NonNullable<Exclude<T, false | 0 | ''>>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<Exclude<T, false | 0 | ''>>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}`);
    await sleep(intervalMs);
  }
}

/**
 * Checks for `duration` that something does not happen: `probe` returns what
 * it found (an empty list when nothing), and the first non-empty finding fails.
 */
export async function expectNothingFor<T>(duration: number, probe: () => Promise<T[]>, { message, intervalMs = 250 }: { message: string; intervalMs?: number }): Promise<void> {
  const deadline = Date.now() + duration;
  for (;;) {
    const found = await probe();
    if (found.length > 0) throw new Error(`${message}: ${JSON.stringify(found)}`);
    if (Date.now() > deadline) return;
    await sleep(intervalMs);
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
