-- The worker's view of profiles and needs must never skip a committed write. change_seq values
-- are handed out before commit, so a transaction holding n can commit after n+1 was read, and
-- a cursor at n+1 skipped it. A transaction id per change fixes that: every transaction whose
-- id is below pg_snapshot_xmin(pg_current_snapshot()) has finished, so a worker may advance
-- its cursor to that horizon and re-read the rows written at or above it next time.
ALTER TABLE supplier_profiles ADD COLUMN change_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE needs ADD COLUMN change_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX supplier_profiles_change_xid ON supplier_profiles (change_xid);
CREATE INDEX needs_change_xid ON needs (change_xid);

CREATE OR REPLACE FUNCTION touch_change_seq() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ignored CONSTANT text[] := ARRAY['match_version', 'updated_at', 'change_seq', 'change_xid', 'lan'];
BEGIN
    IF (to_jsonb(NEW) - ignored) IS DISTINCT FROM (to_jsonb(OLD) - ignored) THEN
        NEW.change_seq := nextval('change_seq');
        NEW.change_xid := pg_current_xact_id();
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END $$;

-- Cheap health figures and `asfmatch jobs --failed` without scanning every job ever run.
CREATE INDEX jobs_failed ON jobs (id) WHERE state = 'failed';
-- Retention deletes finished jobs, settled webhook messages and old attempts by age.
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE state IN ('done', 'superseded');
CREATE INDEX webhook_messages_finished ON webhook_messages (finished_at)
    WHERE state IN ('delivered', 'failed');
CREATE INDEX webhook_attempts_attempted ON webhook_attempts (attempted_at);
CREATE INDEX notification_quota_day ON notification_quota (day);
-- The latest ranking job of an entity, to tell a list that failed for good from a ready one.
CREATE INDEX jobs_entity_latest ON jobs (kind, entity_id, id DESC);
