// Redaction of secret values, shared by the log sink, the workflow and the
// API (pure: it runs inside the workflow sandbox too).
import type { CompiledRunbook } from './types.js';

export const REDACTED = '***';

/** Replaces every occurrence of each secret (of 4 characters or more) with `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) if (secret.length >= 4) result = result.split(secret).join(REDACTED);
  return result;
}

/** Whether an input's schema marks it secret (`format: password` or `x-secret: true`). */
export function isSecretInput(schema: { format?: unknown; 'x-secret'?: unknown } | undefined): boolean {
  return schema?.format === 'password' || schema?.['x-secret'] === true;
}

/** Values of the inputs a runbook marks secret, to redact wherever they could show. */
export function secretInputValues(runbook: CompiledRunbook, inputs: Record<string, unknown>): string[] {
  const properties = (runbook.inputs.properties ?? {}) as Record<string, { format?: unknown; 'x-secret'?: unknown }>;
  return Object.entries(properties)
    .filter(([, schema]) => isSecretInput(schema))
    .map(([name]) => inputs[name])
    .filter((value): value is string => typeof value === 'string' && value.length > 0);
}

/** The inputs with every secret one replaced by `***`. */
export function maskSecretInputs(runbook: CompiledRunbook, inputs: Record<string, unknown>): Record<string, unknown> {
  const properties = (runbook.inputs.properties ?? {}) as Record<string, { format?: unknown; 'x-secret'?: unknown }>;
  return Object.fromEntries(Object.entries(inputs).map(([name, value]) => [name, isSecretInput(properties[name]) && value !== undefined ? REDACTED : value]));
}
