-- Nodes without an agent are reached over SSH: the `ssh` connection of their
-- environment that holds the key, and the login to use (empty: the
-- connection's). Fleet steps route such targets through the main workers.
ALTER TABLE "nodes" ADD COLUMN "ssh_connection" TEXT;
ALTER TABLE "nodes" ADD COLUMN "ssh_user" TEXT NOT NULL DEFAULT '';

-- An admin changing how a node is reached (or its labels or address) is not
-- a health check: only status and last-seen changes make a sample.
CREATE OR REPLACE FUNCTION "node_health_sample"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW."last_seen_at" IS DISTINCT FROM OLD."last_seen_at" AND NEW."status" = 'online' THEN
    INSERT INTO "node_health_samples" ("node_id", "at", "ok") VALUES (NEW."id", NEW."last_seen_at", true);
  ELSIF NEW."status" = 'unreachable' AND NEW."updated_at" IS DISTINCT FROM OLD."updated_at"
    AND NEW."labels" IS NOT DISTINCT FROM OLD."labels" AND NEW."address" IS NOT DISTINCT FROM OLD."address"
    AND NEW."ssh_connection" IS NOT DISTINCT FROM OLD."ssh_connection" AND NEW."ssh_user" IS NOT DISTINCT FROM OLD."ssh_user" THEN
    INSERT INTO "node_health_samples" ("node_id", "at", "ok") VALUES (NEW."id", NEW."updated_at", false);
  END IF;
  RETURN NULL;
END;
$$;
