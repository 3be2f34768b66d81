import pg from 'pg';
import type { LineSink } from '../activities/action.js';
import { createConsoleLineSink } from '../activities/index.js';
import { reportIdleConnectionError } from '../db/pool-errors.js';
import { DatabaseLineSink } from './database-line-sink.js';
import { RunLogStore } from './run-log-store.js';

/** Where a worker sends output lines: the runs' logs in the database when there is one, else its own output. */
export function createWorkerLineSink(databaseUrl: string | undefined): { sink: LineSink; close(): Promise<void> } {
  if (!databaseUrl) return { sink: createConsoleLineSink(), close: async () => {} };
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  pool.on('error', reportIdleConnectionError);
  const sink = new DatabaseLineSink(new RunLogStore(pool));
  return {
    sink,
    async close() {
      await sink.flush();
      await pool.end();
    },
  };
}
