-- Per-environment egress allowlist: the non-public addresses, CIDR ranges and
-- host names that http.* and notify.* actions of that environment may reach
-- (everything else that is not a public address is refused).

-- CreateTable
CREATE TABLE "egress_allowlists" (
    "environment" TEXT NOT NULL,
    "entries" JSONB NOT NULL DEFAULT '[]',
    "updated_by" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "egress_allowlists_pkey" PRIMARY KEY ("environment")
);

-- AddForeignKey
ALTER TABLE "egress_allowlists" ADD CONSTRAINT "egress_allowlists_environment_fkey" FOREIGN KEY ("environment") REFERENCES "environments"("name") ON DELETE CASCADE ON UPDATE CASCADE;
