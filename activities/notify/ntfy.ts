// ntfy: a JSON publish to the server's root with the topic in the body; an
// access token (the connection's secret) when the topic is protected.
import { failureOfStatus, isSuccess, permanent, stringSetting, type NotificationSender } from './channel.js';

const PRIORITY = { info: 3, warning: 4, error: 5 } as const;
const TAGS = { info: ['information_source'], warning: ['warning'], error: ['rotating_light'] } as const;

export const sendNtfy: NotificationSender = async (message, channel, http) => {
  const server = stringSetting(channel, 'server') ?? 'https://ntfy.sh';
  const topic = channel.recipient ?? stringSetting(channel, 'topic');
  if (!topic) throw permanent('the ntfy connection names no topic (config.topic)');
  const body = { topic, title: message.subject, message: message.text, tags: [...TAGS[message.severity]], priority: PRIORITY[message.severity], ...(message.link ? { click: message.link } : {}) };
  const answer = await http.post(server.replace(/\/$/, '') + '/', JSON.stringify(body), channel.secret ? { authorization: `Bearer ${channel.secret}` } : {});
  if (!isSuccess(answer)) throw failureOfStatus('ntfy', answer);
};
