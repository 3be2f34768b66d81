// Reads a request to a trigger's URL: whether its secret signed it, and what
// an Alertmanager notification holds. Pure: no database, no runs.
//   hmac:   X-Jarvis-Signature: sha256=<hex HMAC-SHA256 of "<X-Jarvis-Timestamp>.<raw body>">, the timestamp
//           (Unix seconds) within five minutes of now; or GitHub's (and Gitea's) X-Hub-Signature-256: sha256=<hex HMAC of the raw body>
//   bearer: Authorization: Bearer <secret> (Alertmanager's http_config.authorization sends this)
import { hmacSha256Hex, sameText } from '../../security/webhook-signatures.js';

type Headers = Record<string, string | string[] | undefined>;

export type TriggerAuth = 'hmac' | 'bearer';

/** How far a signed timestamp may be from now, either way: a captured request cannot be replayed later. */
export const SIGNATURE_TOLERANCE_SECONDS = 5 * 60;

const header = (headers: Headers, name: string): string | undefined => {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
};

export type Verdict = { ok: true } | { ok: false; reason: string };

/** Whether the request carries the trigger's secret as its `auth` says; `secret` undefined (no such trigger) refuses after the same work. */
export function verifyTriggerRequest(auth: TriggerAuth, secret: string | undefined, headers: Headers, body: Buffer, nowMs = Date.now()): Verdict {
  const key = secret ?? 'no trigger has this secret';
  if (auth === 'bearer') {
    const given = /^bearer\s+(.+)$/i.exec(header(headers, 'authorization') ?? '')?.[1]?.trim();
    const matches = given !== undefined && sameText(given, key);
    return matches && secret !== undefined ? { ok: true } : { ok: false, reason: 'the bearer secret is missing or wrong (Authorization: Bearer <secret>)' };
  }
  const jarvis = header(headers, 'x-jarvis-signature');
  if (jarvis !== undefined) {
    const timestamp = header(headers, 'x-jarvis-timestamp') ?? '';
    const matches = sameText(jarvis, `sha256=${hmacSha256Hex(key, Buffer.concat([Buffer.from(`${timestamp}.`), body]))}`);
    if (!matches || secret === undefined) return { ok: false, reason: 'the signature is wrong (X-Jarvis-Signature: sha256=<HMAC-SHA256 of "<X-Jarvis-Timestamp>.<body>">)' };
    const seconds = /^\d{1,12}$/.test(timestamp) ? Number(timestamp) : Number.NaN;
    if (!(Math.abs(nowMs / 1000 - seconds) <= SIGNATURE_TOLERANCE_SECONDS)) {
      return { ok: false, reason: `the signed X-Jarvis-Timestamp is more than ${SIGNATURE_TOLERANCE_SECONDS} seconds from now: a replay, or a clock to fix` };
    }
    return { ok: true };
  }
  const hub = header(headers, 'x-hub-signature-256');
  if (hub !== undefined && sameText(hub, `sha256=${hmacSha256Hex(key, body)}`) && secret !== undefined) return { ok: true };
  return { ok: false, reason: hub === undefined ? 'the request is not signed (X-Jarvis-Signature with X-Jarvis-Timestamp, or X-Hub-Signature-256)' : 'the signature is wrong (X-Hub-Signature-256)' };
}

/** One alert of an Alertmanager webhook notification (payload version 4). */
export interface AlertmanagerAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

const isTextRecord = (value: unknown): value is Record<string, string> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) && Object.values(value).every((entry) => typeof entry === 'string');

/** The alerts of a notification, or what is wrong with it. */
export function readAlertmanagerAlerts(body: unknown): { ok: true; alerts: AlertmanagerAlert[] } | { ok: false; reason: string } {
  const payload = body as { version?: unknown; alerts?: unknown } | null;
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return { ok: false, reason: 'an Alertmanager notification is a JSON object' };
  if (payload.version !== '4') return { ok: false, reason: `Alertmanager webhook payload version 4 is read; this one says ${JSON.stringify(payload.version ?? null)}` };
  if (!Array.isArray(payload.alerts)) return { ok: false, reason: 'the notification has no alerts list' };
  const alerts: AlertmanagerAlert[] = [];
  for (const [index, entry] of payload.alerts.entries()) {
    const alert = entry as Partial<Record<keyof AlertmanagerAlert, unknown>> | null;
    if (alert === null || typeof alert !== 'object') return { ok: false, reason: `alerts[${index}] is not an object` };
    if (alert.status !== 'firing' && alert.status !== 'resolved') return { ok: false, reason: `alerts[${index}].status is neither firing nor resolved` };
    if (typeof alert.fingerprint !== 'string' || alert.fingerprint === '' || typeof alert.startsAt !== 'string') return { ok: false, reason: `alerts[${index}] has no fingerprint or startsAt` };
    alerts.push({
      status: alert.status,
      labels: isTextRecord(alert.labels) ? alert.labels : {},
      annotations: isTextRecord(alert.annotations) ? alert.annotations : {},
      startsAt: alert.startsAt,
      endsAt: typeof alert.endsAt === 'string' ? alert.endsAt : '',
      generatorURL: typeof alert.generatorURL === 'string' ? alert.generatorURL : '',
      fingerprint: alert.fingerprint,
    });
  }
  return { ok: true, alerts };
}
