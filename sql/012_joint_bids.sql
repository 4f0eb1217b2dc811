-- Joint procurements and joint bids (docs/joint-bids.md).

-- A need may name several kommuner (a joint procurement by neighbours). `kommun` stays the
-- first of them, so every reader of the single code (needs.lan, listings, notices) keeps
-- working; `kommuner` lists them all, the first included.
ALTER TABLE needs ADD COLUMN kommuner text[];
UPDATE needs SET kommuner = ARRAY[kommun];

-- Writers that know only `kommun` (the notice importer, older code) get it as the whole list;
-- a change of `kommun` alone replaces the list. Runs before needs_touch (trigger names sort).
CREATE FUNCTION needs_kommuner_default() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kommuner IS NULL OR cardinality(NEW.kommuner) = 0 THEN
        NEW.kommuner := ARRAY[NEW.kommun];
    ELSIF TG_OP = 'UPDATE' AND NEW.kommun IS DISTINCT FROM OLD.kommun
          AND NEW.kommuner IS NOT DISTINCT FROM OLD.kommuner THEN
        NEW.kommuner := ARRAY[NEW.kommun];
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER needs_kommuner BEFORE INSERT OR UPDATE ON needs
    FOR EACH ROW EXECUTE FUNCTION needs_kommuner_default();

ALTER TABLE needs
    ALTER COLUMN kommuner SET NOT NULL,
    ADD CONSTRAINT needs_kommuner_list CHECK (
        cardinality(kommuner) BETWEEN 1 AND 50
        AND kommuner[1] = kommun
        AND array_to_string(kommuner, ',') ~ '^[0-9]{4}(,[0-9]{4})*$');
CREATE INDEX needs_kommuner ON needs USING gin (kommuner);

-- An ASF that does not want to be suggested as a partner in joint bids.
ALTER TABLE supplier_profiles ADD COLUMN joint_bids boolean NOT NULL DEFAULT true;

-- The worker's suggested groups for a need that no single eligible ASF can deliver, best
-- first; replaced whenever the need is ranked again.
CREATE TABLE joint_bids (
    need_id       bigint NOT NULL REFERENCES needs (id) ON DELETE CASCADE,
    rank          integer NOT NULL CHECK (rank >= 1),
    member_ids    bigint[] NOT NULL CHECK (cardinality(member_ids) BETWEEN 2 AND 3),
    weakest_score double precision NOT NULL CHECK (weakest_score BETWEEN 0 AND 1),
    detail        jsonb NOT NULL,
    model_version text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (need_id, rank)
);
CREATE INDEX joint_bids_members ON joint_bids USING gin (member_ids);
