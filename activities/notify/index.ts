// The notification channels: each one a connection type with its settings
// (checked when the connection is stored) and its sender.
import { z } from 'zod';
import { JarvisProblem } from '../../manifest/errors.js';
import type { EgressAllowlistSource } from '../http/egress-policy.js';
import { egressHttp, permanent, type NotificationChannel, type NotificationMessage, type NotificationSender } from './channel.js';
import { sendNtfy } from './ntfy.js';
import { sendSignedWebhook } from './signed-webhook.js';
import { sendSlack } from './slack.js';
import { sendEmail } from './smtp.js';
import { sendTeams } from './teams.js';
import { sendTelegram } from './telegram.js';

export type { NotificationChannel, NotificationMessage } from './channel.js';
export { signWebhook } from './signed-webhook.js';

const httpUrl = z.url({ protocol: /^https?$/ });

/** Each channel type's settings (config); secrets are the connection's sealed secret. */
export const CHANNEL_CONFIGS = {
  smtp: z
    .object({
      host: z.string().min(1).max(253),
      port: z.number().int().min(1).max(65_535).optional(),
      security: z.enum(['tls', 'starttls', 'none']).default('starttls'),
      from: z.string().min(3).max(320),
      user: z.string().min(1).max(320).optional(),
      to: z.string().min(3).max(320).optional(),
    })
    .strict(),
  slack: z.object({ channel: z.string().min(1).max(100).optional(), apiUrl: httpUrl.optional() }).strict(),
  teams: z.object({}).strict(),
  telegram: z
    .object({
      chatId: z
        .union([z.string().min(1).max(100), z.number().int()])
        .transform(String)
        .optional(),
      apiUrl: httpUrl.optional(),
    })
    .strict(),
  ntfy: z
    .object({
      server: httpUrl.default('https://ntfy.sh'),
      topic: z
        .string()
        .min(1)
        .max(64)
        .regex(/^[-_A-Za-z0-9]+$/)
        .optional(),
    })
    .strict(),
  webhook: z.object({ url: httpUrl }).strict(),
} as const;

export type ChannelType = keyof typeof CHANNEL_CONFIGS;

export function isChannelType(type: string): type is ChannelType {
  return Object.hasOwn(CHANNEL_CONFIGS, type);
}

/** Connection config checks for ConnectionService: a channel's settings are refused with what to fix. */
export const channelConfigChecks: Record<ChannelType, (config: Record<string, unknown>) => Promise<void>> = Object.fromEntries(
  Object.entries(CHANNEL_CONFIGS).map(([type, schema]) => [
    type,
    async (config: Record<string, unknown>) => {
      const parsed = schema.safeParse(config);
      if (!parsed.success) throw new JarvisProblem(`invalid ${type} settings: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(config)'}: ${issue.message}`).join('; ')}`, 'invalid');
    },
  ]),
) as Record<ChannelType, (config: Record<string, unknown>) => Promise<void>>;

const HTTP_SENDERS: Record<Exclude<ChannelType, 'smtp'>, NotificationSender> = { slack: sendSlack, teams: sendTeams, telegram: sendTelegram, ntfy: sendNtfy, webhook: sendSignedWebhook };

/** Sends one message on one channel; throws an ApplicationFailure that says whether retrying may help. */
export async function sendOnChannel(message: NotificationMessage, channel: NotificationChannel, egress: EgressAllowlistSource | undefined): Promise<void> {
  if (!isChannelType(channel.type)) throw permanent(`connection type "${channel.type}" is not a notification channel`);
  const config = CHANNEL_CONFIGS[channel.type].safeParse(channel.config);
  if (!config.success) throw permanent(`the ${channel.type} connection's settings are invalid: ${config.error.message}`);
  const parsed = { ...channel, config: config.data as Record<string, unknown> };
  if (channel.type === 'smtp') return sendEmail(message, parsed, egress);
  return HTTP_SENDERS[channel.type](message, parsed, egressHttp(channel.environment, egress));
}
