-- Nodes without an agent are reached over SSH: the `ssh` connection of their
-- environment that holds the key, and the login to use (empty: the
-- connection's). Fleet steps route such targets through the main workers.
ALTER TABLE "nodes" ADD COLUMN "ssh_connection" TEXT;
ALTER TABLE "nodes" ADD COLUMN "ssh_user" TEXT NOT NULL DEFAULT '';
