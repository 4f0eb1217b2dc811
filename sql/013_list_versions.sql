-- Match lists and the public needs list are served from Redis without asking PostgreSQL
-- (docs/architecture.md, "Cached reads without PostgreSQL"). That is only safe if every change
-- to what a list shows, or to who may read it, moves the list's version and is announced at
-- commit; these triggers make that hold for every writer (API, worker, CLI, imports).

-- Who may read a list (a need's buyer and status, a supplier's organisation and active flag)
-- is cached next to it, so a change of either is a new version of the list.
CREATE FUNCTION list_owner_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.match_version = OLD.match_version THEN
        NEW.match_version := NEW.match_version + 1;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER needs_list_owner BEFORE UPDATE ON needs FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.buyer_id IS DISTINCT FROM NEW.buyer_id)
    EXECUTE FUNCTION list_owner_changed();
CREATE TRIGGER supplier_profiles_list_owner BEFORE UPDATE ON supplier_profiles FOR EACH ROW
    WHEN (OLD.active IS DISTINCT FROM NEW.active
          OR OLD.organisation_id IS DISTINCT FROM NEW.organisation_id)
    EXECUTE FUNCTION list_owner_changed();

-- A ranking job opening, finishing or failing moves its list between "pending", "ready" and
-- "failed", so it is a new version of the list. queued <-> running is not (pending both ways),
-- which keeps the claim, the hottest job statement, free of it.
CREATE FUNCTION jobs_ranking_state_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (OLD.state = NEW.state
            OR (OLD.state IN ('queued', 'running') AND NEW.state IN ('queued', 'running'))) THEN
        RETURN NULL;
    END IF;
    IF NEW.kind = 'rank_need' THEN
        UPDATE needs SET match_version = match_version + 1 WHERE id = NEW.entity_id;
    ELSE
        UPDATE supplier_profiles SET match_version = match_version + 1 WHERE id = NEW.entity_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER jobs_ranking_state AFTER INSERT OR UPDATE OF state ON jobs FOR EACH ROW
    WHEN (NEW.kind IN ('rank_need', 'rank_supplier'))
    EXECUTE FUNCTION jobs_ranking_state_changed();

-- Every new list version is announced at commit ("need:12:5", "supplier:3:gone"); each API
-- process writes it into Redis (storage/list_versions.py). NOTIFY is transactional: sent
-- exactly when the writer commits, never for a rollback.
CREATE FUNCTION list_version_announced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('asfmatch_lists', TG_ARGV[0] || ':' || OLD.id || ':gone');
    ELSIF NEW.match_version IS DISTINCT FROM OLD.match_version THEN
        PERFORM pg_notify('asfmatch_lists', TG_ARGV[0] || ':' || NEW.id || ':' || NEW.match_version);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER needs_list_version AFTER UPDATE OR DELETE ON needs FOR EACH ROW
    EXECUTE FUNCTION list_version_announced('need');
CREATE TRIGGER supplier_profiles_list_version AFTER UPDATE OR DELETE ON supplier_profiles
    FOR EACH ROW EXECUTE FUNCTION list_version_announced('supplier');

-- The public needs list: any change to a need's content (not a bare match_version bump, which
-- the list does not show), a new or deleted need, or a buyer's new name announces "needs".
-- Identical payloads fold into one per transaction, so an import of many notices sends one.
CREATE FUNCTION needs_listing_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ignored CONSTANT text[] := ARRAY['match_version', 'change_seq', 'change_xid', 'updated_at'];
BEGIN
    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'needs'
            AND (to_jsonb(NEW) - ignored) = (to_jsonb(OLD) - ignored) THEN
        RETURN NULL;
    END IF;
    PERFORM pg_notify('asfmatch_lists', 'needs');
    RETURN NULL;
END $$;
CREATE TRIGGER needs_listing AFTER INSERT OR UPDATE OR DELETE ON needs FOR EACH ROW
    EXECUTE FUNCTION needs_listing_changed();
CREATE TRIGGER organisations_listing AFTER UPDATE OF name OR DELETE ON organisations
    FOR EACH ROW EXECUTE FUNCTION needs_listing_changed();
