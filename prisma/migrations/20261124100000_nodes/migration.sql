-- CreateTable
CREATE TABLE "nodes" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "environment_id" UUID NOT NULL,
    "address" TEXT NOT NULL DEFAULT '',
    "labels" JSONB NOT NULL DEFAULT '{}',
    "status" TEXT NOT NULL DEFAULT 'pending',
    "last_seen_at" TIMESTAMPTZ(3),
    "last_health" JSONB,
    "profile" JSONB,
    "enrollment_token_hash" TEXT,
    "enrollment_expires_at" TIMESTAMPTZ(3),
    "agent_credential_hash" TEXT,
    "task_queue" TEXT,
    "source" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "nodes_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "nodes_status_check" CHECK ("status" IN ('pending', 'online', 'unreachable')),
    CONSTRAINT "nodes_source_check" CHECK ("source" IN ('agent', 'ssh'))
);

-- CreateIndex
CREATE UNIQUE INDEX "nodes_environment_id_name_key" ON "nodes"("environment_id", "name");

-- CreateIndex
CREATE UNIQUE INDEX "nodes_enrollment_token_hash_key" ON "nodes"("enrollment_token_hash");

-- CreateIndex
CREATE UNIQUE INDEX "nodes_agent_credential_hash_key" ON "nodes"("agent_credential_hash");

-- AddForeignKey
ALTER TABLE "nodes" ADD CONSTRAINT "nodes_environment_id_fkey" FOREIGN KEY ("environment_id") REFERENCES "environments"("id") ON DELETE CASCADE ON UPDATE CASCADE;
