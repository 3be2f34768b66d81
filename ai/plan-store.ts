// AI Ops plans in PostgreSQL (ai_plans) and the per-environment policy of
// which catalog actions a plan may use (ai_action_policies).
import type pg from 'pg';
import type { RiskLevel } from '../manifest/action-catalog.js';
import type { ManifestError } from '../manifest/errors.js';

export type PlanStatus = 'proposed' | 'submitted' | 'succeeded' | 'failed' | 'rejected';
export type PlanSource = 'model' | 'past-resolutions';

export interface PlanRisk {
  level: RiskLevel;
  score: number;
  steps: Array<{ id: string; action: string; risk: RiskLevel }>;
}

export interface StoredPlan {
  id: string;
  environment: string;
  goal: string;
  runId: string | null;
  incidentDocumentId: string | null;
  sourceDocumentIds: string[];
  manifest: Record<string, unknown>;
  valid: boolean;
  errors: ManifestError[];
  risk: PlanRisk;
  source: PlanSource;
  model: string | null;
  status: PlanStatus;
  submittedRunId: string | null;
  submittedBy: string | null;
  outcomeReason: string | null;
  createdBy: string;
  createdAt: string;
}

export type NewPlan = Omit<StoredPlan, 'id' | 'status' | 'submittedRunId' | 'submittedBy' | 'outcomeReason' | 'createdAt'>;

/** Which actions plans may use in an environment. */
export interface ActionPolicy {
  /** null: every catalog action. */
  allowedActions: string[] | null;
  deniedActions: string[];
  /** Actions above this risk are refused. */
  maxRisk: RiskLevel;
}

export const DEFAULT_ACTION_POLICY: ActionPolicy = { allowedActions: null, deniedActions: [], maxRisk: 'high' };

interface PlanRow {
  id: string;
  environment: string;
  goal: string;
  run_id: string | null;
  incident_document_id: string | null;
  source_document_ids: string[];
  manifest: Record<string, unknown>;
  valid: boolean;
  errors: ManifestError[];
  risk: PlanRisk;
  source: PlanSource;
  model: string | null;
  status: PlanStatus;
  submitted_run_id: string | null;
  submitted_by: string | null;
  outcome_reason: string | null;
  created_by: string;
  created_at: Date;
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function planFromRow(row: PlanRow): StoredPlan {
  return {
    id: row.id,
    environment: row.environment,
    goal: row.goal,
    runId: row.run_id,
    incidentDocumentId: row.incident_document_id,
    sourceDocumentIds: row.source_document_ids,
    manifest: row.manifest,
    valid: row.valid,
    errors: row.errors,
    risk: row.risk,
    source: row.source,
    model: row.model,
    status: row.status,
    submittedRunId: row.submitted_run_id,
    submittedBy: row.submitted_by,
    outcomeReason: row.outcome_reason,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
  };
}

export class PlanStore {
  constructor(private readonly pool: pg.Pool) {}

  async create(plan: NewPlan & { id: string }): Promise<StoredPlan> {
    const { rows } = await this.pool.query<PlanRow>(
      `INSERT INTO ai_plans (id, environment, goal, run_id, incident_document_id, source_document_ids, manifest, valid, errors, risk, source, model, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING *`,
      [
        plan.id,
        plan.environment,
        plan.goal,
        plan.runId,
        plan.incidentDocumentId,
        JSON.stringify(plan.sourceDocumentIds),
        JSON.stringify(plan.manifest),
        plan.valid,
        JSON.stringify(plan.errors),
        JSON.stringify(plan.risk),
        plan.source,
        plan.model,
        plan.createdBy,
      ],
    );
    return planFromRow(rows[0]!);
  }

  async find(id: string): Promise<StoredPlan | undefined> {
    if (!UUID_PATTERN.test(id)) return undefined;
    const { rows } = await this.pool.query<PlanRow>('SELECT * FROM ai_plans WHERE id = $1', [id]);
    return rows[0] ? planFromRow(rows[0]) : undefined;
  }

  /** Claims a proposed plan for submission; undefined when it was already submitted (a plan runs once). */
  async claimForSubmission(id: string, submittedBy: string): Promise<StoredPlan | undefined> {
    const { rows } = await this.pool.query<PlanRow>(
      `UPDATE ai_plans SET status = 'submitted', submitted_by = $2, updated_at = now() WHERE id = $1 AND status = 'proposed' RETURNING *`,
      [id, submittedBy],
    );
    return rows[0] ? planFromRow(rows[0]) : undefined;
  }

  async recordSubmittedRun(id: string, runId: string): Promise<void> {
    await this.pool.query('UPDATE ai_plans SET submitted_run_id = $2, updated_at = now() WHERE id = $1', [id, runId]);
  }

  /** Gives a claimed plan back when its run could not be started. */
  async releaseClaim(id: string): Promise<void> {
    await this.pool.query(`UPDATE ai_plans SET status = 'proposed', submitted_by = NULL, updated_at = now() WHERE id = $1 AND status = 'submitted' AND submitted_run_id IS NULL`, [id]);
  }

  /** Records how the run of a submitted plan ended, once; undefined when it was already recorded. */
  async recordOutcome(id: string, status: 'succeeded' | 'failed' | 'rejected', reason: string | undefined): Promise<StoredPlan | undefined> {
    const { rows } = await this.pool.query<PlanRow>(
      `UPDATE ai_plans SET status = $2, outcome_reason = $3, updated_at = now() WHERE id = $1 AND status = 'submitted' RETURNING *`,
      [id, status, reason ?? null],
    );
    return rows[0] ? planFromRow(rows[0]) : undefined;
  }

  async policy(environment: string): Promise<ActionPolicy> {
    const { rows } = await this.pool.query<{ allowed_actions: string[] | null; denied_actions: string[]; max_risk: RiskLevel }>(
      'SELECT allowed_actions, denied_actions, max_risk FROM ai_action_policies WHERE environment = $1',
      [environment],
    );
    const row = rows[0];
    return row ? { allowedActions: row.allowed_actions, deniedActions: row.denied_actions, maxRisk: row.max_risk } : DEFAULT_ACTION_POLICY;
  }

  async setPolicy(environment: string, policy: ActionPolicy): Promise<void> {
    await this.pool.query(
      `INSERT INTO ai_action_policies (environment, allowed_actions, denied_actions, max_risk) VALUES ($1, $2, $3, $4)
       ON CONFLICT (environment) DO UPDATE SET allowed_actions = $2, denied_actions = $3, max_risk = $4, updated_at = now()`,
      [environment, policy.allowedActions === null ? null : JSON.stringify(policy.allowedActions), JSON.stringify(policy.deniedActions), policy.maxRisk],
    );
  }
}
