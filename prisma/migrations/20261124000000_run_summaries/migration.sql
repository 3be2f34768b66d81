-- CreateTable
CREATE TABLE "run_summaries" (
    "workflow_id" TEXT NOT NULL,
    "execution_id" TEXT NOT NULL,
    "runbook" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "started_by" TEXT NOT NULL,
    "rerun_of" TEXT,
    "status" TEXT NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "ended_at" TIMESTAMPTZ(3),
    "error" TEXT,
    "progress" JSONB NOT NULL,
    "sequence" INTEGER NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "run_summaries_pkey" PRIMARY KEY ("workflow_id")
);

-- CreateTable
CREATE TABLE "run_summary_steps" (
    "workflow_id" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "data" JSONB NOT NULL,

    CONSTRAINT "run_summary_steps_pkey" PRIMARY KEY ("workflow_id","position")
);

-- CreateIndex
CREATE INDEX "run_summaries_environment_started_at_idx" ON "run_summaries"("environment", "started_at");

-- CreateIndex
CREATE INDEX "run_summaries_started_at_idx" ON "run_summaries"("started_at");

-- AddForeignKey
ALTER TABLE "run_summary_steps" ADD CONSTRAINT "run_summary_steps_workflow_id_fkey" FOREIGN KEY ("workflow_id") REFERENCES "run_summaries"("workflow_id") ON DELETE CASCADE ON UPDATE CASCADE;
