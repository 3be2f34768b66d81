-- Schedules: a runbook, its sealed inputs and its owner; Temporal keeps the
-- spec's state. Each fire is recorded once, by its workflow execution.
CREATE TABLE "schedules" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "runbook" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "owner_id" UUID NOT NULL,
    "inputs_ciphertext" TEXT NOT NULL,
    "definition" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "schedules_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "schedules_name_key" ON "schedules"("name");
CREATE INDEX "schedules_environment_idx" ON "schedules"("environment");

CREATE TABLE "schedule_fires" (
    "schedule_id" UUID NOT NULL,
    "fire_id" TEXT NOT NULL,
    "scheduled_at" TIMESTAMPTZ(3) NOT NULL,
    "fired_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "outcome" TEXT NOT NULL,
    "run_id" TEXT,
    "reason" TEXT,

    CONSTRAINT "schedule_fires_pkey" PRIMARY KEY ("schedule_id","fire_id")
);

CREATE INDEX "schedule_fires_schedule_id_scheduled_at_idx" ON "schedule_fires"("schedule_id", "scheduled_at");

ALTER TABLE "schedule_fires" ADD CONSTRAINT "schedule_fires_schedule_id_fkey" FOREIGN KEY ("schedule_id") REFERENCES "schedules"("id") ON DELETE CASCADE ON UPDATE CASCADE;
