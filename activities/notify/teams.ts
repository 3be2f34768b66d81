// Microsoft Teams: a Workflows webhook (the connection's secret is its URL)
// that takes an Adaptive Card as a message attachment and answers 202.
import { failureOfStatus, isSuccess, requiredSecret, type NotificationSender } from './channel.js';

export const sendTeams: NotificationSender = async (message, channel, http) => {
  const url = requiredSecret(channel, 'webhook URL');
  const card = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body: [
      { type: 'TextBlock', text: message.subject, weight: 'Bolder', size: 'Medium', wrap: true, ...(message.severity === 'error' ? { color: 'Attention' } : {}) },
      { type: 'TextBlock', text: message.text, wrap: true },
    ],
    ...(message.link ? { actions: [{ type: 'Action.OpenUrl', title: 'Open in Jarvis', url: message.link }] } : {}),
  };
  const answer = await http.post(url, JSON.stringify({ type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }] }));
  if (!isSuccess(answer)) throw failureOfStatus('the Teams webhook', answer);
};
