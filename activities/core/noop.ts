import { z } from 'zod';
import { defineAction } from '../action.js';

export const coreNoop = defineAction({
  id: 'core.noop',
  title: 'Do nothing',
  description: 'Completes at once and echoes its message: for smoke tests, placeholders and benchmarks.',
  risk: 'low',
  input: z.object({ message: z.string().default('') }).strict(),
  output: z.object({ message: z.string() }),
  defaults: { timeout: '30s', retry: { maxAttempts: 3, initialInterval: '1s', backoff: 2, maxInterval: '10s' } },
  create: () => async (args) => ({ message: args.message }),
});
