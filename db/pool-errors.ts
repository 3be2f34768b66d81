/**
 * An idle pooled connection that the server closes (a restart, a failover, a
 * dropped database) emits 'error'; unhandled, that would crash the process.
 * The pool replaces the connection on next use, so a warning is enough.
 */
export function reportIdleConnectionError(error: Error): void {
  console.warn(`[jarvis] a database connection was closed by the server: ${error.message}`);
}
