-- Run artifacts: files steps published (dumps, recaps, build outputs). A row
-- is written only once its object is stored and hashed; an attempt publishes
-- a name once, so a retried activity does not duplicate it.
CREATE TABLE "run_artifacts" (
    "id" UUID NOT NULL,
    "run_id" TEXT NOT NULL,
    "execution_id" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "step_id" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "content_type" TEXT NOT NULL,
    "size" BIGINT NOT NULL,
    "sha256" TEXT NOT NULL,
    "backend" TEXT NOT NULL,
    "storage_key" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "run_artifacts_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "run_artifacts_run_id_execution_id_step_id_attempt_name_key" ON "run_artifacts"("run_id", "execution_id", "step_id", "attempt", "name");
CREATE INDEX "run_artifacts_run_id_idx" ON "run_artifacts"("run_id");
