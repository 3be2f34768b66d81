-- Each environment's workflow-payload key has generations: removing a node
-- whose agent held the key moves its environment on to the next one.
ALTER TABLE "environments" ADD COLUMN "payload_key_generation" INTEGER NOT NULL DEFAULT 0;
