// E-mail over SMTP with nodemailer: implicit TLS (465), STARTTLS (required,
// not merely attempted) or plain on a trusted network; the connection's secret
// is the password of config.user. The server's address goes through the same
// egress policy as HTTP channels.
import { lookup } from 'node:dns/promises';
import nodemailer from 'nodemailer';
import { emptyAllowlist, describeRefusal, refusalFor, type EgressAllowlistSource } from '../http/egress-policy.js';
import { parseIp, type IpAddress } from '../http/ip-address.js';
import { permanent, retryable, stringSetting, type NotificationChannel, type NotificationMessage } from './channel.js';

export type SmtpSecurity = 'tls' | 'starttls' | 'none';

/** Codes of SMTP answers that retrying cannot change (5xx: a refused recipient, a bad login). */
function isPermanentSmtpError(error: unknown): boolean {
  const code = (error as { responseCode?: number }).responseCode;
  const kind = (error as { code?: string }).code;
  return (typeof code === 'number' && code >= 500 && code < 600) || kind === 'EAUTH' || kind === 'EENVELOPE';
}

async function checkEgress(host: string, environment: string, egress: EgressAllowlistSource | undefined): Promise<void> {
  const literal = parseIp(host);
  let addresses: IpAddress[];
  try {
    addresses = literal ? [literal] : (await lookup(host, { all: true, verbatim: true })).map((entry) => parseIp(entry.address)).filter((address): address is IpAddress => address !== undefined);
  } catch (error) {
    throw retryable(`the SMTP server ${host} could not be resolved: ${error instanceof Error ? error.message : String(error)}`);
  }
  const refusal = refusalFor(host, addresses, egress ? await egress.allowlist(environment) : emptyAllowlist(environment));
  if (refusal) throw permanent(`the SMTP server is refused: ${describeRefusal(refusal, environment)}`);
}

export async function sendEmail(message: NotificationMessage, channel: NotificationChannel, egress: EgressAllowlistSource | undefined): Promise<void> {
  const host = stringSetting(channel, 'host');
  const from = stringSetting(channel, 'from');
  const to = channel.recipient ?? stringSetting(channel, 'to');
  if (!host || !from) throw permanent('the smtp connection needs config.host and config.from');
  if (!to) throw permanent('no e-mail address to send to');
  const security = (stringSetting(channel, 'security') ?? 'starttls') as SmtpSecurity;
  const port = typeof channel.config.port === 'number' ? channel.config.port : security === 'tls' ? 465 : 587;
  const user = stringSetting(channel, 'user');
  await checkEgress(host, channel.environment, egress);
  const transport = nodemailer.createTransport({
    host,
    port,
    secure: security === 'tls',
    requireTLS: security === 'starttls',
    ignoreTLS: security === 'none',
    ...(user ? { auth: { user, pass: channel.secret ?? '' } } : {}),
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 30_000,
  });
  try {
    await transport.sendMail({ from, to, subject: message.subject, text: message.text, html: message.html });
  } catch (error) {
    const text = `SMTP ${host}:${port} did not take the message: ${error instanceof Error ? error.message : String(error)}`;
    throw isPermanentSmtpError(error) ? permanent(text) : retryable(text);
  } finally {
    transport.close();
  }
}
