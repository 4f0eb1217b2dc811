-- Outcomes of needs: what the buyer procured and from whom, the follow-up questions asked 7 and
-- 30 days after a need's deadline, and the ASFs' own answers. See docs/outcomes.md.

-- One outcome per need, replaced when the buyer corrects it.
CREATE TABLE need_outcomes (
    need_id         bigint PRIMARY KEY REFERENCES needs (id) ON DELETE CASCADE,
    result          text NOT NULL CHECK (result IN ('awarded', 'not_awarded', 'cancelled')),
    value_sek       bigint CHECK (value_sek >= 0),
    contract_start  date,
    contract_end    date,
    -- Jobs and training places the contract creates (its social clause, or the ASF's own).
    jobs            integer NOT NULL DEFAULT 0 CHECK (jobs >= 0),
    training_places integer NOT NULL DEFAULT 0 CHECK (training_places >= 0),
    recorded_by     bigint REFERENCES organisations (id) ON DELETE SET NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (contract_end IS NULL OR contract_start IS NULL OR contract_end >= contract_start),
    -- Only an award has a value, a period and suppliers.
    CHECK (result = 'awarded' OR (value_sek IS NULL AND contract_start IS NULL
                                  AND contract_end IS NULL AND jobs = 0 AND training_places = 0))
);

-- Who won: any Swedish organisation; `supplier_id` when it is an ASF with a profile here (a
-- joint bid names several).
CREATE TABLE need_award_suppliers (
    need_id     bigint NOT NULL REFERENCES need_outcomes (need_id) ON DELETE CASCADE,
    position    smallint NOT NULL CHECK (position BETWEEN 0 AND 9),
    org_number  text NOT NULL CHECK (org_number ~ '^[0-9]{6}-[0-9]{4}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
    supplier_id bigint REFERENCES supplier_profiles (id) ON DELETE SET NULL,
    PRIMARY KEY (need_id, position),
    UNIQUE (need_id, org_number)
);
CREATE INDEX need_award_suppliers_supplier ON need_award_suppliers (supplier_id)
    WHERE supplier_id IS NOT NULL;

-- A follow-up round (7 or 30 days after the deadline) of a need, once handled: asked, or
-- skipped because an outcome was there or a later round was already due. The primary key is
-- what makes a round happen at most once, however often the job runs.
CREATE TABLE outcome_rounds (
    need_id    bigint NOT NULL REFERENCES needs (id) ON DELETE CASCADE,
    round_days smallint NOT NULL CHECK (round_days IN (7, 30)),
    asked      boolean NOT NULL,
    handled_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (need_id, round_days)
);

-- Who was asked in a round: the buyer (supplier_id NULL) and each ASF that answered interested
-- (with the inbox notification that carries the question).
CREATE TABLE outcome_questions (
    id              bigserial PRIMARY KEY,
    need_id         bigint NOT NULL REFERENCES needs (id) ON DELETE CASCADE,
    round_days      smallint NOT NULL CHECK (round_days IN (7, 30)),
    organisation_id bigint NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    supplier_id     bigint REFERENCES supplier_profiles (id) ON DELETE CASCADE,
    notification_id bigint REFERENCES notifications (id) ON DELETE SET NULL,
    asked_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (need_id, round_days, organisation_id)
);
CREATE INDEX outcome_questions_organisation ON outcome_questions (organisation_id, id);

-- An ASF's own answer: did it win a contract for this need?
CREATE TABLE supplier_outcome_answers (
    need_id     bigint NOT NULL REFERENCES needs (id) ON DELETE CASCADE,
    supplier_id bigint NOT NULL REFERENCES supplier_profiles (id) ON DELETE CASCADE,
    won         boolean NOT NULL,
    answered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (need_id, supplier_id)
);

-- The follow-up scan looks for deadlines in a window; a national report reads needs by the
-- year they were posted (län and buyer reports use needs_status_lan and needs_buyer).
CREATE INDEX needs_closes_at ON needs (closes_at) WHERE closes_at IS NOT NULL;
CREATE INDEX needs_created ON needs (created_at);

-- The question reaches an ASF as an inbox notification (and its channels).
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check
    CHECK (kind IN ('need.matched', 'needs.digest', 'webhook.disabled', 'outcome.question'));
