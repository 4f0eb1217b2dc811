-- A support body (an admin organisation: Coompanion, Skoopi, Famna…) records that it checked an
-- ASF's four Tillväxtverket criteria and its target-group share. Rows are never deleted or
-- rewritten except to mark a lapse, so the table is the history: who checked, when, what.
CREATE TABLE supplier_verifications (
    id                           bigserial PRIMARY KEY,
    supplier_id                  bigint NOT NULL REFERENCES supplier_profiles (id) ON DELETE CASCADE,
    verified_by                  bigint NOT NULL REFERENCES organisations (id),
    -- The day of the check (the admin may record it a few days later) and the last day it holds.
    verified_on                  date NOT NULL,
    valid_until                  date NOT NULL CHECK (valid_until > verified_on),
    note                         text NOT NULL CHECK (length(note) BETWEEN 1 AND 2000),
    -- The values the support body checked: the profile held exactly these when it was recorded.
    target_group_share           double precision NOT NULL CHECK (target_group_share BETWEEN 0 AND 1),
    work_integration_aim         boolean NOT NULL,
    employee_participation       boolean NOT NULL,
    profits_reinvested           boolean NOT NULL,
    independent_of_public_sector boolean NOT NULL,
    recorded_at                  timestamptz NOT NULL DEFAULT now(),
    -- Set once: 'expired' (past valid_until), 'profile_changed' (a verified field was edited,
    -- lapsed_by says by whom) or 'superseded' (a newer verification replaced it).
    lapsed_at                    timestamptz,
    lapse_reason                 text CHECK (lapse_reason IN ('expired', 'profile_changed', 'superseded')),
    lapsed_by                    bigint REFERENCES organisations (id),
    CHECK ((lapsed_at IS NULL) = (lapse_reason IS NULL))
);
CREATE INDEX supplier_verifications_supplier ON supplier_verifications (supplier_id, id DESC);
CREATE INDEX supplier_verifications_due ON supplier_verifications (valid_until) WHERE lapsed_at IS NULL;

-- The verification in force, on the profile row itself: recording or lapsing one is then a
-- content change of the profile (change_seq, change_xid), which is how the worker's index and
-- the cache learn about it, like any other edit.
ALTER TABLE supplier_profiles
    ADD COLUMN verification_id bigint REFERENCES supplier_verifications (id);
