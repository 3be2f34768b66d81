import { z } from 'zod';
import { manifestSchema } from './schema.js';

/** The published JSON Schema of runbook manifests (runbooks/runbook.schema.json). */
export function manifestJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(manifestSchema, { io: 'input', unrepresentable: 'any' }),
    $id: 'https://jarvis.dev/schemas/runbook.schema.json',
    title: 'Jarvis runbook manifest',
  };
}
