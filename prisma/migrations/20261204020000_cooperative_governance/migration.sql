-- Governance of the cooperative: proposals with their voting window, rules
-- (taken from the settings when proposed) and optional effect; one vote per
-- member and proposal, changeable until the proposal closes.

CREATE TABLE "cooperative_proposals" (
    "id" UUID NOT NULL,
    "title" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "effect" JSONB,
    "status" TEXT NOT NULL DEFAULT 'voting',
    "proposed_by" UUID NOT NULL,
    "proposed_by_email" TEXT NOT NULL,
    "opens_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "closes_at" TIMESTAMPTZ(3) NOT NULL,
    "quorum" DOUBLE PRECISION NOT NULL,
    "threshold" DOUBLE PRECISION NOT NULL,
    "weighting" TEXT NOT NULL,
    "tally" JSONB,
    "effect_result" JSONB,
    "workflow_id" TEXT NOT NULL,
    "decided_at" TIMESTAMPTZ(3),

    CONSTRAINT "cooperative_proposals_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "cooperative_proposals_status_check" CHECK ("status" IN ('voting', 'accepted', 'rejected'))
);

CREATE INDEX "cooperative_proposals_status_closes_at_idx" ON "cooperative_proposals"("status", "closes_at");

CREATE TABLE "cooperative_votes" (
    "proposal_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "vote" TEXT NOT NULL,
    "reason" TEXT NOT NULL DEFAULT '',
    "cast_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "cooperative_votes_pkey" PRIMARY KEY ("proposal_id", "user_id"),
    CONSTRAINT "cooperative_votes_vote_check" CHECK ("vote" IN ('yes', 'no', 'abstain'))
);

ALTER TABLE "cooperative_votes" ADD CONSTRAINT "cooperative_votes_proposal_id_fkey" FOREIGN KEY ("proposal_id") REFERENCES "cooperative_proposals"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "cooperative_votes" ADD CONSTRAINT "cooperative_votes_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
