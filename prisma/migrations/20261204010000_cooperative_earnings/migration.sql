-- What nodes earn credits from: every health check of the inventory kept as a
-- sample (a trigger on nodes, so every writer of a check records it), the
-- cooperative's settings (earning rates, voting rules) that governance
-- changes, and each period's verified contribution and earning per node.

CREATE TABLE "node_health_samples" (
    "id" BIGSERIAL NOT NULL,
    "node_id" UUID NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "ok" BOOLEAN NOT NULL,

    CONSTRAINT "node_health_samples_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "node_health_samples_node_id_at_idx" ON "node_health_samples"("node_id", "at");
ALTER TABLE "node_health_samples" ADD CONSTRAINT "node_health_samples_node_id_fkey" FOREIGN KEY ("node_id") REFERENCES "nodes"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- A check that answered sets last_seen_at; one that did not marks the node unreachable (and touches updated_at).
CREATE FUNCTION "node_health_sample"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW."last_seen_at" IS DISTINCT FROM OLD."last_seen_at" AND NEW."status" = 'online' THEN
    INSERT INTO "node_health_samples" ("node_id", "at", "ok") VALUES (NEW."id", NEW."last_seen_at", true);
  ELSIF NEW."status" = 'unreachable' AND NEW."updated_at" IS DISTINCT FROM OLD."updated_at" THEN
    INSERT INTO "node_health_samples" ("node_id", "at", "ok") VALUES (NEW."id", NEW."updated_at", false);
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER "node_health_sample" AFTER UPDATE ON "nodes" FOR EACH ROW EXECUTE FUNCTION "node_health_sample"();

CREATE TABLE "cooperative_settings" (
    "key" TEXT NOT NULL,
    "value" JSONB NOT NULL,
    "updated_by" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "cooperative_settings_pkey" PRIMARY KEY ("key")
);

CREATE TABLE "cooperative_earnings" (
    "period_start" TIMESTAMPTZ(3) NOT NULL,
    "period_end" TIMESTAMPTZ(3) NOT NULL,
    "node_id" UUID NOT NULL,
    "checks_ok" INTEGER NOT NULL,
    "checks_failed" INTEGER NOT NULL,
    "steps_done" INTEGER NOT NULL,
    "steps_failed" INTEGER NOT NULL,
    "credits" BIGINT NOT NULL,
    "transfer_id" UUID,
    "computed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "cooperative_earnings_pkey" PRIMARY KEY ("period_start", "node_id")
);

CREATE INDEX "cooperative_earnings_node_id_period_start_idx" ON "cooperative_earnings"("node_id", "period_start");
ALTER TABLE "cooperative_earnings" ADD CONSTRAINT "cooperative_earnings_node_id_fkey" FOREIGN KEY ("node_id") REFERENCES "nodes"("id") ON DELETE CASCADE ON UPDATE CASCADE;
