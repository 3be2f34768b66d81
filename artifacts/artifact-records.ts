// The metadata of run artifacts in PostgreSQL (run_artifacts).
import type pg from 'pg';
import type { ArtifactBackend } from './artifact-store.js';

export interface RunArtifact {
  id: string;
  runId: string;
  executionId: string;
  environment: string;
  stepId: string;
  attempt: number;
  name: string;
  contentType: string;
  size: number;
  sha256: string;
  backend: ArtifactBackend;
  storageKey: string;
  createdAt: string;
}

/** Which attempt of which step published an artifact. */
export interface ArtifactOrigin {
  runId: string;
  executionId: string;
  environment: string;
  stepId: string;
  attempt: number;
}

interface Row {
  id: string;
  run_id: string;
  execution_id: string;
  environment: string;
  step_id: string;
  attempt: number;
  name: string;
  content_type: string;
  size: string;
  sha256: string;
  backend: ArtifactBackend;
  storage_key: string;
  created_at: Date;
}

const COLUMNS = 'id, run_id, execution_id, environment, step_id, attempt, name, content_type, size, sha256, backend, storage_key, created_at';

function fromRow(row: Row): RunArtifact {
  return {
    id: row.id,
    runId: row.run_id,
    executionId: row.execution_id,
    environment: row.environment,
    stepId: row.step_id,
    attempt: row.attempt,
    name: row.name,
    contentType: row.content_type,
    size: Number(row.size),
    sha256: row.sha256,
    backend: row.backend,
    storageKey: row.storage_key,
    createdAt: row.created_at.toISOString(),
  };
}

export class ArtifactRecords {
  constructor(private readonly pool: pg.Pool) {}

  async find(origin: ArtifactOrigin, name: string): Promise<RunArtifact | undefined> {
    const { rows } = await this.pool.query<Row>(`SELECT ${COLUMNS} FROM run_artifacts WHERE run_id = $1 AND execution_id = $2 AND step_id = $3 AND attempt = $4 AND name = $5`, [
      origin.runId,
      origin.executionId,
      origin.stepId,
      origin.attempt,
      name,
    ]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  /** Records a stored artifact; `undefined` when the attempt had already recorded this name (a retried activity). */
  async insert(artifact: Omit<RunArtifact, 'createdAt'>): Promise<RunArtifact | undefined> {
    const { rows } = await this.pool.query<Row>(
      `INSERT INTO run_artifacts (id, run_id, execution_id, environment, step_id, attempt, name, content_type, size, sha256, backend, storage_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (run_id, execution_id, step_id, attempt, name) DO NOTHING
       RETURNING ${COLUMNS}`,
      [
        artifact.id,
        artifact.runId,
        artifact.executionId,
        artifact.environment,
        artifact.stepId,
        artifact.attempt,
        artifact.name,
        artifact.contentType,
        artifact.size,
        artifact.sha256,
        artifact.backend,
        artifact.storageKey,
      ],
    );
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async listOfRun(runId: string): Promise<RunArtifact[]> {
    const { rows } = await this.pool.query<Row>(`SELECT ${COLUMNS} FROM run_artifacts WHERE run_id = $1 ORDER BY created_at, step_id, name`, [runId]);
    return rows.map(fromRow);
  }

  async get(runId: string, id: string): Promise<RunArtifact | undefined> {
    const { rows } = await this.pool.query<Row>(`SELECT ${COLUMNS} FROM run_artifacts WHERE run_id = $1 AND id = $2`, [runId, id]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async delete(id: string): Promise<void> {
    await this.pool.query('DELETE FROM run_artifacts WHERE id = $1', [id]);
  }

  /** Which of these keys have a row (the rest are orphans). */
  async knownKeys(backend: ArtifactBackend, keys: string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const { rows } = await this.pool.query<{ storage_key: string }>('SELECT storage_key FROM run_artifacts WHERE backend = $1 AND storage_key = ANY($2::text[])', [backend, keys]);
    return new Set(rows.map((row) => row.storage_key));
  }
}
