-- Notifications: the language a user reads them in, an outbox of events
-- written in the same transaction as the change they report, the rules of
-- each environment and each user's subscriptions, and the log of deliveries.
ALTER TABLE "users" ADD COLUMN "locale" TEXT NOT NULL DEFAULT 'en';

CREATE TABLE "notification_events" (
    "id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "run_id" TEXT,
    "payload" JSONB NOT NULL DEFAULT '{}',
    "dedup_key" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "dispatched_at" TIMESTAMPTZ(3),

    CONSTRAINT "notification_events_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "notification_events_dedup_key_key" ON "notification_events"("dedup_key");
CREATE INDEX "notification_events_undispatched_idx" ON "notification_events"("created_at") WHERE "dispatched_at" IS NULL;

CREATE TABLE "notification_rules" (
    "id" UUID NOT NULL,
    "environment_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "events" JSONB NOT NULL DEFAULT '[]',
    "connection_id" UUID NOT NULL,
    "runbook" TEXT,
    "recipient" TEXT,
    "locale" TEXT NOT NULL DEFAULT 'en',
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "created_by" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "notification_rules_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "notification_rules_environment_id_name_key" ON "notification_rules"("environment_id", "name");

ALTER TABLE "notification_rules" ADD CONSTRAINT "notification_rules_environment_id_fkey" FOREIGN KEY ("environment_id") REFERENCES "environments"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "notification_rules" ADD CONSTRAINT "notification_rules_connection_id_fkey" FOREIGN KEY ("connection_id") REFERENCES "connections"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "notification_subscriptions" (
    "id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "environment_id" UUID NOT NULL,
    "events" JSONB NOT NULL DEFAULT '[]',
    "connection_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "notification_subscriptions_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "notification_subscriptions_environment_id_idx" ON "notification_subscriptions"("environment_id");

ALTER TABLE "notification_subscriptions" ADD CONSTRAINT "notification_subscriptions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "notification_subscriptions" ADD CONSTRAINT "notification_subscriptions_environment_id_fkey" FOREIGN KEY ("environment_id") REFERENCES "environments"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "notification_subscriptions" ADD CONSTRAINT "notification_subscriptions_connection_id_fkey" FOREIGN KEY ("connection_id") REFERENCES "connections"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The SMTP connection personal subscriptions are e-mailed through, one per environment.
CREATE TABLE "notification_defaults" (
    "environment_id" UUID NOT NULL,
    "connection_id" UUID NOT NULL,

    CONSTRAINT "notification_defaults_pkey" PRIMARY KEY ("environment_id")
);

ALTER TABLE "notification_defaults" ADD CONSTRAINT "notification_defaults_environment_id_fkey" FOREIGN KEY ("environment_id") REFERENCES "environments"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "notification_defaults" ADD CONSTRAINT "notification_defaults_connection_id_fkey" FOREIGN KEY ("connection_id") REFERENCES "connections"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- One row per (event, target): a rule, or a subscription's user. Rule and
-- subscription ids are kept as text without foreign keys, so the log outlives them.
CREATE TABLE "notification_deliveries" (
    "id" UUID NOT NULL,
    "event_id" UUID NOT NULL,
    "target" TEXT NOT NULL,
    "rule_id" UUID,
    "subscription_id" UUID,
    "connection_id" UUID,
    "channel" TEXT NOT NULL,
    "recipient" TEXT NOT NULL DEFAULT '',
    "status" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "event_created_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sent_at" TIMESTAMPTZ(3),

    CONSTRAINT "notification_deliveries_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "notification_deliveries_event_id_target_key" ON "notification_deliveries"("event_id", "target");
CREATE INDEX "notification_deliveries_rule_id_created_at_idx" ON "notification_deliveries"("rule_id", "created_at");

ALTER TABLE "notification_deliveries" ADD CONSTRAINT "notification_deliveries_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "notification_events"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Whoever writes an event wakes the dispatchers (they also poll, so a lost
-- wake-up only delays a notification).
CREATE FUNCTION "notification_events_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('jarvis_notification_events', '');
  RETURN NULL;
END;
$$;

CREATE TRIGGER "notification_events_notify" AFTER INSERT ON "notification_events" FOR EACH STATEMENT EXECUTE FUNCTION "notification_events_notify"();
