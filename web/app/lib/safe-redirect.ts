// Where to send the browser after signing in (or changing a preference): only
// a path on this site. Browsers read `//host`, `/\host` and `\\host` as another
// host, and drop tabs and newlines inside URLs, so any of those is refused
// rather than cleaned.

const PROBE_ORIGIN = 'http://jarvis.invalid';

/** `value` when it is a same-origin path such as `/runs?status=failed`, else `fallback`. */
export function safeRedirectPath(value: unknown, fallback = '/dashboard'): string {
  if (typeof value !== 'string' || value.length > 2_000) return fallback;
  if (!value.startsWith('/') || value.startsWith('//') || value.includes('\\') || /[\u0000-\u001f\u007f]/.test(value)) return fallback;
  try {
    const url = new URL(value, PROBE_ORIGIN);
    // Decoding must not make it another host either (`/%2F%2Fevil`, `/%5Cevil` are paths; kept only if they stay ours).
    if (url.origin !== PROBE_ORIGIN || url.pathname.startsWith('//')) return fallback;
    return `${url.pathname}${url.search}${url.hash}`;
  } catch {
    return fallback;
  }
}
