-- CreateTable
CREATE TABLE "ssh_host_keys" (
    "connection_id" UUID NOT NULL,
    "address" TEXT NOT NULL,
    "key_type" TEXT NOT NULL,
    "public_key" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "pinned_by" TEXT,
    "pinned_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ssh_host_keys_pkey" PRIMARY KEY ("connection_id","address")
);

-- AddForeignKey
ALTER TABLE "ssh_host_keys" ADD CONSTRAINT "ssh_host_keys_connection_id_fkey" FOREIGN KEY ("connection_id") REFERENCES "connections"("id") ON DELETE CASCADE ON UPDATE CASCADE;
