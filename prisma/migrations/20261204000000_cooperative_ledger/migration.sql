-- The cooperative's credit ledger (cooperative/): one account per member
-- (user) and per node, plus the issuance account earnings are paid from;
-- transfers with their idempotency key; double-entry entries, append-only.

CREATE TABLE "cooperative_accounts" (
    "id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "label" TEXT NOT NULL,
    "user_id" UUID,
    "node_id" UUID,
    "balance" BIGINT NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "cooperative_accounts_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "cooperative_accounts_kind_check" CHECK ("kind" IN ('member', 'node', 'issuance')),
    -- Only the issuance account runs negative: its balance is minus what was ever issued.
    CONSTRAINT "cooperative_accounts_balance_check" CHECK ("kind" = 'issuance' OR "balance" >= 0)
);

CREATE UNIQUE INDEX "cooperative_accounts_user_id_key" ON "cooperative_accounts"("user_id");
CREATE UNIQUE INDEX "cooperative_accounts_node_id_key" ON "cooperative_accounts"("node_id");
CREATE UNIQUE INDEX "cooperative_accounts_issuance_key" ON "cooperative_accounts"("kind") WHERE "kind" = 'issuance';
ALTER TABLE "cooperative_accounts" ADD CONSTRAINT "cooperative_accounts_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "cooperative_accounts" ADD CONSTRAINT "cooperative_accounts_node_id_fkey" FOREIGN KEY ("node_id") REFERENCES "nodes"("id") ON DELETE SET NULL ON UPDATE CASCADE;

INSERT INTO "cooperative_accounts" ("id", "kind", "label") VALUES ('00000000-0000-4000-8000-000000000001', 'issuance', 'issuance');

CREATE TABLE "cooperative_transfers" (
    "id" UUID NOT NULL,
    "requested_by" TEXT NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "from_account" UUID NOT NULL,
    "to_account" UUID NOT NULL,
    "amount" BIGINT NOT NULL,
    "memo" TEXT NOT NULL DEFAULT '',
    "status" TEXT NOT NULL,
    "reason" TEXT,
    "workflow_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "cooperative_transfers_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "cooperative_transfers_amount_check" CHECK ("amount" > 0),
    CONSTRAINT "cooperative_transfers_status_check" CHECK ("status" IN ('applied', 'refused'))
);

CREATE UNIQUE INDEX "cooperative_transfers_requested_by_idempotency_key_key" ON "cooperative_transfers"("requested_by", "idempotency_key");
ALTER TABLE "cooperative_transfers" ADD CONSTRAINT "cooperative_transfers_from_account_fkey" FOREIGN KEY ("from_account") REFERENCES "cooperative_accounts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "cooperative_transfers" ADD CONSTRAINT "cooperative_transfers_to_account_fkey" FOREIGN KEY ("to_account") REFERENCES "cooperative_accounts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

CREATE TABLE "cooperative_entries" (
    "id" BIGSERIAL NOT NULL,
    "transfer_id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "amount" BIGINT NOT NULL,
    "balance_after" BIGINT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "cooperative_entries_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "cooperative_entries_account_id_created_at_idx" ON "cooperative_entries"("account_id", "created_at");
CREATE INDEX "cooperative_entries_transfer_id_idx" ON "cooperative_entries"("transfer_id");
ALTER TABLE "cooperative_entries" ADD CONSTRAINT "cooperative_entries_transfer_id_fkey" FOREIGN KEY ("transfer_id") REFERENCES "cooperative_transfers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "cooperative_entries" ADD CONSTRAINT "cooperative_entries_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "cooperative_accounts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Append-only: an entry is never changed or removed; a correction is a new transfer.
CREATE FUNCTION "cooperative_entries_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'cooperative ledger entries are append-only';
END;
$$;
CREATE TRIGGER "cooperative_entries_append_only" BEFORE UPDATE OR DELETE ON "cooperative_entries" FOR EACH STATEMENT EXECUTE FUNCTION "cooperative_entries_append_only"();

-- Cooperative roles beyond membership (every user is a member): treasurer.
CREATE TABLE "cooperative_roles" (
    "user_id" UUID NOT NULL,
    "role" TEXT NOT NULL,
    "granted_by" TEXT NOT NULL,
    "granted_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "cooperative_roles_pkey" PRIMARY KEY ("user_id", "role"),
    CONSTRAINT "cooperative_roles_role_check" CHECK ("role" IN ('treasurer'))
);

ALTER TABLE "cooperative_roles" ADD CONSTRAINT "cooperative_roles_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
