-- Retention of run history: how long each environment keeps its runs, their
-- log lines and their artifacts; runs held out of every purge (with their
-- Temporal history archived); and the report of each purge.

CREATE TABLE "retention_policies" (
    "environment" TEXT NOT NULL,
    "runs" TEXT,
    "logs" TEXT,
    "artifacts" TEXT,
    "updated_by" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "retention_policies_pkey" PRIMARY KEY ("environment")
);

ALTER TABLE "retention_policies" ADD CONSTRAINT "retention_policies_environment_fkey" FOREIGN KEY ("environment") REFERENCES "environments"("name") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "run_holds" (
    "workflow_id" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "held_by" TEXT NOT NULL,
    "held_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "history_execution_id" TEXT,
    "history" JSONB,
    "history_archived_at" TIMESTAMPTZ(3),

    CONSTRAINT "run_holds_pkey" PRIMARY KEY ("workflow_id")
);

CREATE TABLE "run_purge_marks" (
    "workflow_id" TEXT NOT NULL,
    "purging_at" TIMESTAMPTZ(3),
    "logs_purged_at" TIMESTAMPTZ(3),
    "artifacts_purged_at" TIMESTAMPTZ(3),
    "purged_execution_id" TEXT,

    CONSTRAINT "run_purge_marks_pkey" PRIMARY KEY ("workflow_id")
);

CREATE TABLE "retention_purges" (
    "id" UUID NOT NULL,
    "trigger" TEXT NOT NULL,
    "requested_by" TEXT,
    "dry_run" BOOLEAN NOT NULL DEFAULT false,
    "status" TEXT NOT NULL DEFAULT 'running',
    "workflow_id" TEXT,
    "error" TEXT,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "retention_purges_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "retention_purges_started_at_idx" ON "retention_purges"("started_at");

CREATE TABLE "retention_purge_counts" (
    "purge_id" UUID NOT NULL,
    "environment" TEXT NOT NULL,
    "runs" INTEGER NOT NULL DEFAULT 0,
    "log_lines" INTEGER NOT NULL DEFAULT 0,
    "histories" INTEGER NOT NULL DEFAULT 0,
    "artifact_runs" INTEGER NOT NULL DEFAULT 0,
    "artifacts" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "retention_purge_counts_pkey" PRIMARY KEY ("purge_id", "environment")
);

ALTER TABLE "retention_purge_counts" ADD CONSTRAINT "retention_purge_counts_purge_id_fkey" FOREIGN KEY ("purge_id") REFERENCES "retention_purges"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The purge selects closed runs of an environment by when they ended.
CREATE INDEX "run_summaries_environment_ended_at_idx" ON "run_summaries"("environment", "ended_at");
