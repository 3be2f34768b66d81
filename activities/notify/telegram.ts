// Telegram: the Bot API's sendMessage with the bot token (the connection's
// secret) to a chat id; the answer's `ok` says whether it was sent.
import { failureOfStatus, isSuccess, permanent, requiredSecret, retryable, stringSetting, type NotificationSender } from './channel.js';

const TELEGRAM_API = 'https://api.telegram.org';

export const sendTelegram: NotificationSender = async (message, channel, http) => {
  const token = requiredSecret(channel, 'bot token');
  const chatId = channel.recipient ?? stringSetting(channel, 'chatId');
  if (!chatId) throw permanent('the telegram connection names no chat id (config.chatId)');
  const api = (stringSetting(channel, 'apiUrl') ?? TELEGRAM_API).replace(/\/$/, '');
  const text = `${message.subject}\n\n${message.text}`.slice(0, 4096);
  const answer = await http.post(`${api}/bot${token}/sendMessage`, JSON.stringify({ chat_id: chatId, text, disable_web_page_preview: true }));
  let parsed: { ok?: boolean; description?: string } = {};
  try {
    parsed = JSON.parse(answer.body) as typeof parsed;
  } catch {
    if (!isSuccess(answer)) throw failureOfStatus('Telegram sendMessage', { ...answer, body: '' });
    throw retryable('Telegram sendMessage answered something that is not JSON');
  }
  // The body is Telegram's, never the URL: that holds the token.
  if (!isSuccess(answer) || parsed.ok !== true) throw failureOfStatus('Telegram sendMessage', { status: answer.status === 200 ? 400 : answer.status, body: parsed.description ?? '' });
};
