-- Webhook deliveries already handled, by the id the git host gave them: a
-- redelivery of the same push syncs once. Kept for a week.
CREATE TABLE "git_webhook_deliveries" (
    "connection_id" UUID NOT NULL,
    "delivery_id" TEXT NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "git_webhook_deliveries_pkey" PRIMARY KEY ("connection_id","delivery_id")
);

CREATE INDEX "git_webhook_deliveries_received_at_idx" ON "git_webhook_deliveries"("received_at");

ALTER TABLE "git_webhook_deliveries" ADD CONSTRAINT "git_webhook_deliveries_connection_id_fkey" FOREIGN KEY ("connection_id") REFERENCES "connections"("id") ON DELETE CASCADE ON UPDATE CASCADE;
