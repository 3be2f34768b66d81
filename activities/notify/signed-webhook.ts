// A generic webhook: the event as JSON, signed with the connection's secret
// (X-Jarvis-Signature: sha256=<HMAC of "<timestamp>.<body>">, X-Jarvis-Timestamp),
// so the receiver can check it came from Jarvis and is not a replay.
import { createHmac } from 'node:crypto';
import { failureOfStatus, isSuccess, permanent, requiredSecret, stringSetting, type NotificationSender } from './channel.js';

export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export const sendSignedWebhook: NotificationSender = async (message, channel, http) => {
  const url = stringSetting(channel, 'url');
  if (!url) throw permanent('the webhook connection names no URL (config.url)');
  const secret = requiredSecret(channel, 'signing secret');
  const body = JSON.stringify({ kind: message.kind, subject: message.subject, text: message.text, severity: message.severity, ...(message.link ? { link: message.link } : {}) });
  const timestamp = String(Math.floor(Date.now() / 1000));
  const answer = await http.post(url, body, { 'x-jarvis-timestamp': timestamp, 'x-jarvis-signature': signWebhook(secret, timestamp, body) });
  if (!isSuccess(answer)) throw failureOfStatus('the webhook', answer);
};
