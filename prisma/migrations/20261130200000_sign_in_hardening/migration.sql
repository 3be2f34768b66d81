-- Sign-in hardening: failed sign-ins back off per (email, client address)
-- instead of locking the account (which let anyone lock out anyone); a TOTP
-- code is accepted once; API tokens are listed per user.

-- AlterTable
ALTER TABLE "users" DROP COLUMN "failed_logins",
DROP COLUMN "locked_until",
ADD COLUMN "totp_last_step" INTEGER;

-- CreateTable
CREATE TABLE "sign_in_backoffs" (
    "email" TEXT NOT NULL,
    "client_address" TEXT NOT NULL,
    "failures" INTEGER NOT NULL,
    "last_failure_at" TIMESTAMPTZ(3) NOT NULL,
    "blocked_until" TIMESTAMPTZ(3),

    CONSTRAINT "sign_in_backoffs_pkey" PRIMARY KEY ("email","client_address")
);

-- CreateIndex
CREATE INDEX "sign_in_backoffs_last_failure_at_idx" ON "sign_in_backoffs"("last_failure_at");

-- CreateIndex
CREATE INDEX "api_tokens_user_id_idx" ON "api_tokens"("user_id");
