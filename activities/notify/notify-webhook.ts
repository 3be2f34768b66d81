import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { parseDuration } from '../../manifest/duration.js';
import { defineAction, durationArgument, textArgument } from '../action.js';
import { performHttpCall } from '../http/http-fetch.js';

export const notifyWebhook = defineAction({
  id: 'notify.webhook',
  title: 'Send a webhook notification',
  description:
    'POSTs a JSON message to a webhook (Slack, Mattermost, Teams or any HTTP receiver). Without `payload` the body is `{"text": message}`, which chat webhooks accept.',
  risk: 'low',
  input: z
    .object({
      url: z.url(),
      message: z.string().optional(),
      payload: z.record(z.string(), z.unknown()).optional(),
      headers: z.record(z.string(), textArgument).default({}),
      timeout: durationArgument.default('15s'),
    })
    .strict()
    .refine((args) => args.message !== undefined || args.payload !== undefined, { message: 'give a message or a payload' }),
  output: z.object({ status: z.number() }),
  defaults: { timeout: '1m', retry: { maxAttempts: 5, initialInterval: '2s', backoff: 2, maxInterval: '1m' } },
  create: (deps) => async (args, context) => {
    const body = args.payload ?? { text: args.message };
    const answer = await performHttpCall(
      { url: args.url, method: 'POST', headers: args.headers, body, timeoutMs: parseDuration(args.timeout) ?? 15_000 },
      context,
      deps,
    );
    if (answer.status < 200 || answer.status >= 300) {
      throw ApplicationFailure.retryable(`webhook answered ${answer.status}: ${answer.body.slice(0, 200)}`, 'WebhookRejected');
    }
    return { status: answer.status };
  },
});
