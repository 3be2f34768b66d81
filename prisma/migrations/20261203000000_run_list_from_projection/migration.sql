-- Runs are listed from the projection (issue 16): keyset paging newest first,
-- and the filters of GET /runs each have an index to walk in that order.
ALTER TABLE "run_summaries" ADD COLUMN "live_steps" BOOLEAN NOT NULL DEFAULT false;

CREATE INDEX "run_summaries_started_at_workflow_id_idx" ON "run_summaries"("started_at", "workflow_id");
CREATE INDEX "run_summaries_runbook_started_at_idx" ON "run_summaries"("runbook", "started_at");
CREATE INDEX "run_summaries_status_started_at_idx" ON "run_summaries"("status", "started_at");
CREATE INDEX "run_summaries_started_by_started_at_idx" ON "run_summaries"("started_by", "started_at");
CREATE INDEX "run_summaries_rerun_of_idx" ON "run_summaries"("rerun_of");
CREATE INDEX "schedule_fires_run_id_idx" ON "schedule_fires"("run_id");
