// Redaction of secret values, shared by the log sink and the workflow (pure:
// it runs inside the workflow sandbox too).
export const REDACTED = '***';

/** Replaces every occurrence of each secret (of 4 characters or more) with `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) if (secret.length >= 4) result = result.split(secret).join(REDACTED);
  return result;
}
