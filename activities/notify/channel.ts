// What every notification channel shares: the message, the resolved channel
// (its connection's settings and unsealed secret), and HTTP through the egress
// policy of the channel's environment (the same as the http and notify actions).
import { ApplicationFailure } from '@temporalio/common';
import { emptyAllowlist, type EgressAllowlistSource } from '../http/egress-policy.js';
import { BadRedirectError, EgressRefusedError, guardedRequest } from '../http/guarded-request.js';

export interface NotificationMessage {
  /** The event kind (run.failed, ...). */
  kind: string;
  subject: string;
  text: string;
  html: string;
  /** The run, approval or node page, when there is one. */
  link?: string;
  severity: 'info' | 'warning' | 'error';
}

export interface NotificationChannel {
  connectionId: string;
  type: string;
  environment: string;
  config: Record<string, unknown>;
  secret?: string;
  /** Where on the channel, when the rule or subscriber names it (an e-mail address, a chat id, a topic). */
  recipient?: string;
}

export interface NotifyHttpAnswer {
  status: number;
  body: string;
}

export interface NotifyHttp {
  post(url: string, body: string, headers?: Record<string, string>): Promise<NotifyHttpAnswer>;
}

export type NotificationSender = (message: NotificationMessage, channel: NotificationChannel, http: NotifyHttp) => Promise<void>;

const TIMEOUT_MS = 15_000;

/** A failure retrying may cure (a 5xx, a timeout, a refused connection). */
export function retryable(message: string): ApplicationFailure {
  return ApplicationFailure.retryable(message, 'NotificationNotSent');
}

/** A failure retrying cannot cure (a wrong setting, a refused address). */
export function permanent(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, 'NotificationRefused');
}

/** 4xx other than 408 and 429 will not change by retrying; everything else non-2xx may. */
export function failureOfStatus(what: string, answer: NotifyHttpAnswer): ApplicationFailure {
  const message = `${what} answered ${answer.status}: ${answer.body.slice(0, 200)}`;
  return answer.status >= 400 && answer.status < 500 && answer.status !== 408 && answer.status !== 429 ? permanent(message) : retryable(message);
}

export function isSuccess(answer: NotifyHttpAnswer): boolean {
  return answer.status >= 200 && answer.status < 300;
}

/** POSTs through the egress policy of `environment`: public addresses, and others only when its allowlist names them. */
export function egressHttp(environment: string, egress: EgressAllowlistSource | undefined, timeoutMs = TIMEOUT_MS): NotifyHttp {
  return {
    async post(url, body, headers = {}) {
      const allowlist = egress ? await egress.allowlist(environment) : emptyAllowlist(environment);
      try {
        const response = await guardedRequest({ url, method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, signal: AbortSignal.timeout(timeoutMs), allowlist });
        return { status: response.status, body: response.body };
      } catch (error) {
        // The URL may hold a secret (a webhook's token): the message names the host only.
        const host = safeHost(url);
        if (error instanceof EgressRefusedError || error instanceof BadRedirectError) throw permanent(`POST to ${host} refused: ${error.message}`);
        throw retryable(`POST to ${host} failed: ${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)}`);
      }
    },
  };
}

export function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(an invalid URL)';
  }
}

export function stringSetting(channel: NotificationChannel, name: string): string | undefined {
  const value = channel.config[name];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

export function requiredSecret(channel: NotificationChannel, what: string): string {
  if (!channel.secret) throw permanent(`the ${channel.type} connection holds no ${what} (its secret)`);
  return channel.secret;
}
