-- API processes keep recently used keys in memory; a revoked or deleted key is announced at
-- commit (NOTIFY is transactional) so every process forgets it at once. See api/principals.py.
CREATE FUNCTION api_keys_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('asfmatch_keys', OLD.id::text);
    RETURN NULL;
END $$;
CREATE TRIGGER api_keys_revoked AFTER UPDATE OF revoked_at OR DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION api_keys_revoked();
