-- Inbound webhook triggers (generic and Prometheus Alertmanager) and the log
-- of what each delivery came to. Secrets are sealed (AES-256-GCM); the log
-- keeps a body's sha256 and size, never the body.

-- CreateTable
CREATE TABLE "triggers" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "kind" TEXT NOT NULL DEFAULT 'webhook',
    "runbook" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "owner_id" UUID,
    "auth" TEXT NOT NULL,
    "secret_ciphertext" TEXT NOT NULL,
    "secret_key_id" TEXT NOT NULL,
    "filter" TEXT,
    "inputs" JSONB NOT NULL DEFAULT '{}',
    "dedup_key" TEXT,
    "rate_limit_per_minute" INTEGER NOT NULL DEFAULT 60,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "triggers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "trigger_deliveries" (
    "id" BIGSERIAL NOT NULL,
    "trigger_id" UUID NOT NULL,
    "request_id" UUID NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "outcome" TEXT NOT NULL,
    "run_id" TEXT,
    "reason" TEXT,
    "alert_fingerprint" TEXT,
    "body_sha256" TEXT NOT NULL,
    "body_bytes" INTEGER NOT NULL,

    CONSTRAINT "trigger_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "triggers_environment_name_key" ON "triggers"("environment", "name");

-- CreateIndex
CREATE INDEX "trigger_deliveries_trigger_id_received_at_idx" ON "trigger_deliveries"("trigger_id", "received_at");

-- AddForeignKey
ALTER TABLE "triggers" ADD CONSTRAINT "triggers_environment_fkey" FOREIGN KEY ("environment") REFERENCES "environments"("name") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "triggers" ADD CONSTRAINT "triggers_owner_id_fkey" FOREIGN KEY ("owner_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "trigger_deliveries" ADD CONSTRAINT "trigger_deliveries_trigger_id_fkey" FOREIGN KEY ("trigger_id") REFERENCES "triggers"("id") ON DELETE CASCADE ON UPDATE CASCADE;
