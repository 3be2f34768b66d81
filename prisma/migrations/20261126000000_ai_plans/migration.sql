-- AI Ops plans: proposed remediations (runbook manifests restricted to catalog
-- actions) with their validation, risk, submission and outcome; and the
-- per-environment policy of which actions a plan may use.

-- CreateTable
CREATE TABLE "ai_plans" (
    "id" UUID NOT NULL,
    "environment" TEXT NOT NULL,
    "goal" TEXT NOT NULL,
    "run_id" TEXT,
    "incident_document_id" UUID,
    "source_document_ids" JSONB NOT NULL DEFAULT '[]',
    "manifest" JSONB NOT NULL,
    "valid" BOOLEAN NOT NULL,
    "errors" JSONB NOT NULL DEFAULT '[]',
    "risk" JSONB NOT NULL,
    "source" TEXT NOT NULL,
    "model" TEXT,
    "status" TEXT NOT NULL DEFAULT 'proposed',
    "submitted_run_id" TEXT,
    "submitted_by" TEXT,
    "outcome_reason" TEXT,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ai_plans_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "ai_plans_status_check" CHECK ("status" IN ('proposed', 'submitted', 'succeeded', 'failed', 'rejected')),
    CONSTRAINT "ai_plans_source_check" CHECK ("source" IN ('model', 'past-resolutions'))
);

-- CreateTable
CREATE TABLE "ai_action_policies" (
    "environment" TEXT NOT NULL,
    "allowed_actions" JSONB,
    "denied_actions" JSONB NOT NULL DEFAULT '[]',
    "max_risk" TEXT NOT NULL DEFAULT 'high',
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ai_action_policies_pkey" PRIMARY KEY ("environment"),
    CONSTRAINT "ai_action_policies_max_risk_check" CHECK ("max_risk" IN ('low', 'medium', 'high'))
);

-- CreateIndex
CREATE UNIQUE INDEX "ai_plans_submitted_run_id_key" ON "ai_plans"("submitted_run_id");

-- CreateIndex
CREATE INDEX "ai_plans_environment_created_at_idx" ON "ai_plans"("environment", "created_at");

-- AddForeignKey
ALTER TABLE "ai_action_policies" ADD CONSTRAINT "ai_action_policies_environment_fkey" FOREIGN KEY ("environment") REFERENCES "environments"("name") ON DELETE CASCADE ON UPDATE CASCADE;
