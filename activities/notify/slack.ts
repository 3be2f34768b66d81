// Slack: an incoming webhook (the connection's secret is its URL; Slack answers
// "ok"), or a bot token and a channel through chat.postMessage, which answers
// 200 with {ok: false, error} when it fails.
import { failureOfStatus, isSuccess, permanent, requiredSecret, retryable, stringSetting, type NotificationSender } from './channel.js';

const SLACK_API = 'https://slack.com/api';
/** chat.postMessage errors that retrying may cure. */
const TRANSIENT = new Set(['ratelimited', 'service_unavailable', 'internal_error', 'request_timeout', 'fatal_error']);

export const sendSlack: NotificationSender = async (message, channel, http) => {
  const secret = requiredSecret(channel, 'webhook URL or bot token');
  const text = `*${message.subject}*\n${message.text}`;
  const target = channel.recipient ?? stringSetting(channel, 'channel');
  if (!target) {
    const answer = await http.post(secret, JSON.stringify({ text }));
    if (!isSuccess(answer)) throw failureOfStatus('the Slack webhook', answer);
    return;
  }
  const api = (stringSetting(channel, 'apiUrl') ?? SLACK_API).replace(/\/$/, '');
  const answer = await http.post(`${api}/chat.postMessage`, JSON.stringify({ channel: target, text, unfurl_links: false }), { authorization: `Bearer ${secret}` });
  if (!isSuccess(answer)) throw failureOfStatus('Slack chat.postMessage', answer);
  let parsed: { ok?: boolean; error?: string } = {};
  try {
    parsed = JSON.parse(answer.body) as typeof parsed;
  } catch {
    throw retryable(`Slack chat.postMessage answered something that is not JSON: ${answer.body.slice(0, 200)}`);
  }
  if (parsed.ok !== true) {
    const error = parsed.error ?? 'unknown_error';
    throw TRANSIENT.has(error) ? retryable(`Slack chat.postMessage failed: ${error}`) : permanent(`Slack chat.postMessage failed: ${error}`);
  }
};
