// Reads a git host's webhook request as the host sends it: which host (by its
// headers), whether the connection's webhookSecret signed it, which event it
// is, its delivery id and, for a push, the ref. Pure: no database, no git.
//   GitHub:        X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>, X-GitHub-Event, X-GitHub-Delivery
//   GitLab:        X-Gitlab-Token: <the secret itself>, X-Gitlab-Event ("Push Hook"), X-Gitlab-Event-UUID
//   Gitea/Forgejo: X-Gitea-Signature / X-Forgejo-Signature: <hex HMAC-SHA256, no prefix>, X-Gitea-Event, X-Gitea-Delivery
// Bodies are JSON, or a form with the JSON in its `payload` field (GitHub's
// default, Gitea's option).
import { hmacSha256Hex as hmacHex, sameText } from '../../security/webhook-signatures.js';

export type GitHost = 'github' | 'gitlab' | 'gitea';
type Headers = Record<string, string | string[] | undefined>;

export interface WebhookDelivery {
  host: GitHost;
  /** The host's own name of the event: `push`, `ping`, `Push Hook`, `Tag Push Hook`... */
  event: string;
  /** Whether the event is a push of commits or tags (the only kind that may sync). */
  push: boolean;
  delivery?: string;
  ref?: string;
}

export type WebhookReading = { ok: true; delivery: WebhookDelivery } | { ok: false; status: 400 | 401; detail: string };

const header = (headers: Headers, name: string): string | undefined => {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
};

export function hostOf(headers: Headers): GitHost {
  if (header(headers, 'x-gitlab-token') !== undefined || header(headers, 'x-gitlab-event') !== undefined) return 'gitlab';
  // Gitea and Forgejo also send GitHub's headers, for compatibility: theirs are checked first.
  if (['x-gitea-signature', 'x-forgejo-signature', 'x-gitea-event', 'x-forgejo-event'].some((name) => header(headers, name) !== undefined)) return 'gitea';
  return 'github';
}

/** The JSON a body carries, as JSON or in a form's `payload` field. */
function payloadText(contentType: string | undefined, body: Buffer): string | undefined {
  if (contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded')) return new URLSearchParams(body.toString('utf8')).get('payload') ?? undefined;
  return body.toString('utf8');
}

function signedBy(host: GitHost, headers: Headers, secret: string, body: Buffer, payload: string | undefined): boolean {
  switch (host) {
    case 'github': {
      const given = header(headers, 'x-hub-signature-256');
      return given !== undefined && sameText(given, `sha256=${hmacHex(secret, body)}`);
    }
    case 'gitlab': {
      const given = header(headers, 'x-gitlab-token');
      return given !== undefined && sameText(given, secret);
    }
    case 'gitea': {
      const given = header(headers, 'x-gitea-signature') ?? header(headers, 'x-forgejo-signature');
      if (given === undefined) return false;
      // For a form body, whether Gitea signs the form or the JSON inside it has not been constant: both are HMACs with the secret.
      return sameText(given, hmacHex(secret, body)) || (payload !== undefined && payload !== body.toString('utf8') && sameText(given, hmacHex(secret, payload)));
    }
  }
}

const SIGNATURE_HEADER: Record<GitHost, string> = {
  github: 'X-Hub-Signature-256',
  gitlab: 'X-Gitlab-Token',
  gitea: 'X-Gitea-Signature (or X-Forgejo-Signature)',
};

function eventOf(host: GitHost, headers: Headers): { event: string; push: boolean; delivery?: string } {
  const pick = (...names: string[]) => names.map((name) => header(headers, name)).find((value) => value !== undefined);
  switch (host) {
    case 'github': {
      // A signed request without an event header (a script, not GitHub) is read as a push, as before hosts were told apart.
      const event = pick('x-github-event') ?? 'push';
      return { event, push: event === 'push', ...optional(pick('x-github-delivery')) };
    }
    case 'gitlab': {
      const event = pick('x-gitlab-event') ?? '';
      return { event, push: event === 'Push Hook' || event === 'Tag Push Hook', ...optional(pick('x-gitlab-event-uuid')) };
    }
    case 'gitea': {
      const event = pick('x-gitea-event', 'x-forgejo-event') ?? '';
      return { event, push: event === 'push', ...optional(pick('x-gitea-delivery', 'x-forgejo-delivery')) };
    }
  }
}

const optional = (delivery: string | undefined) => (delivery ? { delivery: delivery.slice(0, 200) } : {});

/** Checks the signature over the raw body first, then reads the event; `secret` undefined refuses every request. */
export function readWebhook(headers: Headers, body: Buffer, secret: string | undefined): WebhookReading {
  const host = hostOf(headers);
  const payload = payloadText(header(headers, 'content-type'), body);
  if (!secret || !signedBy(host, headers, secret, body, payload)) {
    return { ok: false, status: 401, detail: `the webhook signature is missing or wrong (${SIGNATURE_HEADER[host]} with the connection’s webhookSecret)` };
  }
  const { event, push, delivery } = eventOf(host, headers);
  let ref: string | undefined;
  if (push) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload ?? '');
    } catch {
      return { ok: false, status: 400, detail: `the ${host} ${event} payload is not JSON (send application/json, or a form with the JSON in its payload field)` };
    }
    const value = (parsed as { ref?: unknown } | null)?.ref;
    if (typeof value === 'string') ref = value;
  }
  return { ok: true, delivery: { host, event, push, ...(delivery ? { delivery } : {}), ...(ref ? { ref } : {}) } };
}
