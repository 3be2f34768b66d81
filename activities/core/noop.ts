import { z } from 'zod';
import { defineAction } from '../action.js';

const noopInput = z.object({ message: z.string().default('') }).strict();
const noopOutput = z.object({ message: z.string() });

export const coreNoop = defineAction({
  id: 'core.noop',
  title: 'Do nothing',
  description: 'Completes at once and echoes its message: for smoke tests, placeholders and benchmarks.',
  risk: 'low',
  input: noopInput,
  output: noopOutput,
  defaults: { timeout: '30s', retry: { maxAttempts: 3, initialInterval: '1s', backoff: 2, maxInterval: '10s' } },
  create: () => async (args) => ({ message: args.message }),
});

export const nodeNoop = defineAction({
  id: 'node.noop',
  title: 'Do nothing on a node',
  description: 'On the node, by its agent: completes at once and echoes its message. Shows that agents answer; measures fleet runs (bench:fleet) without the cost of a real action.',
  risk: 'low',
  runsOn: 'node',
  input: noopInput,
  output: noopOutput,
  defaults: { timeout: '30s', retry: { maxAttempts: 3, initialInterval: '1s', backoff: 2, maxInterval: '10s' } },
  create: () => async (args) => ({ message: args.message }),
});
