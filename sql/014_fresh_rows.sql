-- Cheaper writes of new needs and profiles (POST /api/v1/needs, supplier sign-up).

-- The transaction that created a row. No other transaction has seen any version of such a row,
-- so no cached list of it can exist to be fenced: queuing its first ranking job need not bump
-- its match_version. That bump was an UPDATE of the row just inserted, in the same statement:
-- a second tuple, an entry in each of the table's indexes when it was not HOT, and four more
-- row triggers; it cost more PostgreSQL CPU than the insert itself.
ALTER TABLE needs ADD COLUMN created_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE supplier_profiles ADD COLUMN created_xid xid8 NOT NULL DEFAULT pg_current_xact_id();

CREATE OR REPLACE FUNCTION jobs_ranking_state_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (OLD.state = NEW.state
            OR (OLD.state IN ('queued', 'running') AND NEW.state IN ('queued', 'running'))) THEN
        RETURN NULL;
    END IF;
    IF NEW.kind = 'rank_need' THEN
        UPDATE needs SET match_version = match_version + 1
        WHERE id = NEW.entity_id AND created_xid <> pg_current_xact_id();
    ELSE
        UPDATE supplier_profiles SET match_version = match_version + 1
        WHERE id = NEW.entity_id AND created_xid <> pg_current_xact_id();
    END IF;
    RETURN NULL;
END $$;

-- A new need changes the public needs list whatever its content: one call per statement, not
-- one per row, so a statement writing many needs announces "needs" once. (An INSERT that
-- writes no row announces it too; that costs a cache miss, never a stale page.)
DROP TRIGGER needs_listing ON needs;
CREATE TRIGGER needs_listing AFTER UPDATE OR DELETE ON needs FOR EACH ROW
    EXECUTE FUNCTION needs_listing_changed();
CREATE TRIGGER needs_listing_insert AFTER INSERT ON needs FOR EACH STATEMENT
    EXECUTE FUNCTION needs_listing_changed();
