// Log lines of runs in PostgreSQL: appended in small batches with a sequence
// number per run, announced with NOTIFY so every API replica can stream them.
import type pg from 'pg';

export interface StoredLine {
  seq: number;
  stepId: string;
  attempt: number;
  stream: string;
  at: string;
  text: string;
}

export interface NewLine {
  stepId: string;
  attempt: number;
  stream: string;
  at: string;
  text: string;
}

export const RUN_LOG_CHANNEL = 'jarvis_run_log';
export const TRUNCATION_MARKER = '[jarvis] the log of this run reached its limit; later lines were dropped';

export class RunLogStore {
  constructor(
    private readonly pool: pg.Pool,
    /** A run's log is capped at this many lines, then ends with a visible marker. */
    private readonly maxLinesPerRun = 100_000,
  ) {}

  /**
   * Appends lines to a run's log; per-run locking keeps sequence numbers gapless and in commit order.
   * With a `batchId`, appending the same batch again (a retry after its answer was lost) stores nothing.
   */
  async append(runId: string, lines: NewLine[], batchId?: string): Promise<void> {
    if (lines.length === 0) return;
    const client = await this.pool.connect();
    // A database that goes away between two queries reports it as an event; unheard, it would end the process.
    let lost: unknown;
    const onLost = (error: unknown) => (lost = error);
    client.on('error', onLost);
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [runId]);
      if (batchId) {
        const stored = await client.query('SELECT 1 FROM run_log_lines WHERE run_id = $1 AND batch_id = $2 LIMIT 1', [runId, batchId]);
        if (stored.rowCount) {
          await client.query('ROLLBACK');
          return;
        }
      }
      const { rows } = await client.query<{ last: number | null }>('SELECT max(seq) AS last FROM run_log_lines WHERE run_id = $1', [runId]);
      const last = rows[0]?.last ?? 0;
      const room = this.maxLinesPerRun - last;
      if (room <= 0) {
        await client.query('ROLLBACK');
        return;
      }
      const kept = lines.length < room ? lines : [...lines.slice(0, room - 1), { ...lines[0]!, stream: 'system', text: TRUNCATION_MARKER }];
      await client.query(
        `INSERT INTO run_log_lines (run_id, step_id, attempt, stream, seq, at, text, batch_id)
         SELECT $1, line.step_id, line.attempt, line.stream, $2 + line.ordinality, line.at, line.text, $8::uuid
         FROM unnest($3::text[], $4::int[], $5::text[], $6::timestamptz[], $7::text[]) WITH ORDINALITY
           AS line(step_id, attempt, stream, at, text, ordinality)`,
        [
          runId,
          last,
          kept.map((line) => line.stepId),
          kept.map((line) => line.attempt),
          kept.map((line) => line.stream),
          kept.map((line) => line.at),
          kept.map((line) => line.text),
          batchId ?? null,
        ],
      );
      await client.query('SELECT pg_notify($1, $2)', [RUN_LOG_CHANNEL, `${last + kept.length}:${runId}`]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      lost ??= error;
      throw error;
    } finally {
      client.off('error', onLost);
      // A client that failed is closed rather than handed to the next caller.
      client.release(lost !== undefined);
    }
  }

  async linesAfter(runId: string, afterSeq: number, limit = 5_000): Promise<StoredLine[]> {
    const { rows } = await this.pool.query<{ seq: number; step_id: string; attempt: number; stream: string; at: Date; text: string }>(
      'SELECT seq, step_id, attempt, stream, at, text FROM run_log_lines WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
      [runId, afterSeq, limit],
    );
    return rows.map((row) => ({ seq: row.seq, stepId: row.step_id, attempt: row.attempt, stream: row.stream, at: row.at.toISOString(), text: row.text }));
  }
}
