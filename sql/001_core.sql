-- Organisations, their API keys, supplier profiles and procurement needs.
-- The API validates every field first; these constraints are the last line of defence.

CREATE TABLE organisations (
    id            bigserial PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('buyer', 'supplier', 'admin')),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    org_number    text NOT NULL UNIQUE CHECK (org_number ~ '^[0-9]{6}-[0-9]{4}$'),
    contact_email text CHECK (length(contact_email) <= 254),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Keys are shown once; only a SHA-256 of the whole key is kept (the key has 256 random bits,
-- so a slow password hash would add nothing but latency).
CREATE TABLE api_keys (
    id              bigserial PRIMARY KEY,
    organisation_id bigint NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    prefix          text NOT NULL UNIQUE,
    key_hash        bytea NOT NULL UNIQUE,
    label           text NOT NULL DEFAULT '' CHECK (length(label) <= 100),
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_used_at    timestamptz,
    revoked_at      timestamptz
);
CREATE INDEX api_keys_organisation ON api_keys (organisation_id);

-- Every insert or update of a profile or need takes the next value, so a worker can ask
-- "what changed since I last looked" with one indexed range query.
CREATE SEQUENCE change_seq;

CREATE TABLE supplier_profiles (
    id                           bigserial PRIMARY KEY,
    organisation_id              bigint NOT NULL UNIQUE REFERENCES organisations (id) ON DELETE CASCADE,
    legal_form                   text NOT NULL CHECK (legal_form IN
                                   ('ekonomisk_forening', 'aktiebolag', 'ideell_forening', 'stiftelse', 'other')),
    description                  text NOT NULL CHECK (length(description) <= 5000),
    home_kommun                  text CHECK (home_kommun ~ '^[0-9]{4}$'),
    cpv_codes                    text[] NOT NULL DEFAULT '{}',
    service_area                 text[] NOT NULL DEFAULT '{}',
    employees                    integer NOT NULL CHECK (employees >= 0),
    target_group_share           double precision NOT NULL CHECK (target_group_share BETWEEN 0 AND 1),
    max_contract_value_sek       bigint CHECK (max_contract_value_sek >= 0),
    training_places              integer NOT NULL DEFAULT 0 CHECK (training_places >= 0),
    work_integration_aim         boolean NOT NULL DEFAULT false,
    employee_participation       boolean NOT NULL DEFAULT false,
    profits_reinvested           boolean NOT NULL DEFAULT false,
    independent_of_public_sector boolean NOT NULL DEFAULT false,
    contact_email                text CHECK (length(contact_email) <= 254),
    active                       boolean NOT NULL DEFAULT true,
    change_seq                   bigint NOT NULL DEFAULT nextval('change_seq'),
    -- Bumped whenever this supplier's match list changes; part of its cache key.
    match_version                bigint NOT NULL DEFAULT 0,
    created_at                   timestamptz NOT NULL DEFAULT now(),
    updated_at                   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX supplier_profiles_service_area ON supplier_profiles USING gin (service_area);
CREATE INDEX supplier_profiles_cpv ON supplier_profiles USING gin (cpv_codes);
CREATE INDEX supplier_profiles_change_seq ON supplier_profiles (change_seq);

CREATE TABLE needs (
    id                  bigserial PRIMARY KEY,
    buyer_id            bigint NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    title               text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description         text NOT NULL CHECK (length(description) <= 10000),
    cpv_codes           text[] NOT NULL DEFAULT '{}',
    kommun              text NOT NULL CHECK (kommun ~ '^[0-9]{4}$'),
    lan                 text GENERATED ALWAYS AS (substr(kommun, 1, 2)) STORED,
    estimated_value_sek bigint CHECK (estimated_value_sek >= 0),
    reserved            boolean NOT NULL DEFAULT false,
    training_places     integer NOT NULL DEFAULT 0 CHECK (training_places >= 0),
    closes_at           timestamptz,
    status              text NOT NULL DEFAULT 'open'
                          CHECK (status IN ('draft', 'open', 'closed', 'withdrawn')),
    change_seq          bigint NOT NULL DEFAULT nextval('change_seq'),
    match_version       bigint NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX needs_buyer ON needs (buyer_id);
CREATE INDEX needs_status_lan ON needs (status, lan);
CREATE INDEX needs_cpv ON needs USING gin (cpv_codes);
CREATE INDEX needs_change_seq ON needs (change_seq);

-- Only content changes count: bumping match_version alone must not look like an edit.
-- Generated columns (needs.lan) are still NULL in NEW inside a BEFORE trigger, so they are
-- left out of the comparison too; they follow from columns that are compared.
CREATE FUNCTION touch_change_seq() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ignored CONSTANT text[] := ARRAY['match_version', 'updated_at', 'change_seq', 'lan'];
BEGIN
    IF (to_jsonb(NEW) - ignored) IS DISTINCT FROM (to_jsonb(OLD) - ignored) THEN
        NEW.change_seq := nextval('change_seq');
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER supplier_profiles_touch BEFORE UPDATE ON supplier_profiles
    FOR EACH ROW EXECUTE FUNCTION touch_change_seq();
CREATE TRIGGER needs_touch BEFORE UPDATE ON needs
    FOR EACH ROW EXECUTE FUNCTION touch_change_seq();
