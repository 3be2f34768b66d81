-- Log lines are stored in batches named by the worker: a batch sent again
-- after its answer was lost is recognised and not stored twice.
ALTER TABLE "run_log_lines" ADD COLUMN "batch_id" UUID;
CREATE INDEX "run_log_lines_run_id_batch_id_idx" ON "run_log_lines"("run_id", "batch_id");
