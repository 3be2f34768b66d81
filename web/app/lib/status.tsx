import type { MessageKey, Translate } from '../i18n/index.js';

const STATUS_KEYS: Record<string, MessageKey> = {
  RUNNING: 'status.running',
  COMPLETED: 'status.succeeded',
  FAILED: 'status.failed',
  CANCELLED: 'status.cancelled',
  TERMINATED: 'status.terminated',
  TIMED_OUT: 'status.timedOut',
  running: 'status.running',
  succeeded: 'status.succeeded',
  failed: 'status.failed',
  rejected: 'status.rejected',
  cancelled: 'status.cancelled',
  pending: 'status.pending',
  waiting: 'status.waiting',
  skipped: 'status.skipped',
  scheduled: 'status.pending',
  'timed-out': 'status.timedOut',
};

export function StatusBadge({ status, t }: { status: string; t: Translate }) {
  const key = STATUS_KEYS[status];
  return <span className={`status status-${status.toLowerCase()}`}>{key ? t(key) : status}</span>;
}
