-- Needs imported from public notices (TED eForms, OCDS): where they came from, which notice and
-- lot they are, and the buyer's name and organisation number even when the buyer has no account
-- here. See docs/notices.md.

-- A buyer without an account has no organisations row; its notices wait, unowned, until it signs
-- up and claims them by organisation number.
ALTER TABLE needs ALTER COLUMN buyer_id DROP NOT NULL;

ALTER TABLE needs
    ADD COLUMN source             text NOT NULL DEFAULT 'asfmatch'
                                    CHECK (source IN ('asfmatch', 'ted', 'ocds')),
    -- A notice that names only a NUTS3 region is for the whole län. Such a need keeps the län
    -- in `kommun` as '<län>00' (no kommun code ends in 00), so needs.lan stays right.
    ADD COLUMN whole_lan          boolean NOT NULL DEFAULT false,
    ADD COLUMN buyer_name         text CHECK (length(buyer_name) <= 300),
    ADD COLUMN buyer_org_number   text CHECK (buyer_org_number ~ '^[0-9]{6}-[0-9]{4}$'),
    -- eForms BT-04 / OCDS ocid: the same across a procedure's notices, so a change notice finds
    -- the need its first notice created.
    ADD COLUMN procedure_id       text CHECK (length(procedure_id) <= 200),
    ADD COLUMN lot_id             text CHECK (length(lot_id) <= 100),
    -- eForms BT-701 + BT-757 / OCDS release id of the notice last applied.
    ADD COLUMN notice_id          text CHECK (length(notice_id) <= 200),
    ADD COLUMN notice_version     text CHECK (length(notice_version) <= 200),
    ADD COLUMN notice_issued_at   timestamptz,
    ADD COLUMN notice_url         text CHECK (length(notice_url) <= 2000),
    -- BT-736: execution reserved to sheltered employment programmes.
    ADD COLUMN reserved_execution boolean NOT NULL DEFAULT false,
    -- BT-06 soc-obj or any BT-775 social objective.
    ADD COLUMN social_objective   boolean NOT NULL DEFAULT false,
    -- The value as the notice gave it; estimated_value_sek is set only when it was in SEK.
    ADD COLUMN notice_value       numeric CHECK (notice_value >= 0),
    ADD COLUMN notice_currency    text CHECK (notice_currency ~ '^[A-Z]{3}$'),
    ADD CONSTRAINT needs_have_a_buyer CHECK (buyer_id IS NOT NULL OR buyer_name IS NOT NULL),
    ADD CONSTRAINT needs_whole_lan_code CHECK (NOT whole_lan OR kommun LIKE '__00'),
    ADD CONSTRAINT needs_imported_have_ids CHECK (
        source = 'asfmatch' OR (procedure_id IS NOT NULL AND lot_id IS NOT NULL));

-- One need per (source, procedure, lot): importing the same notice twice finds the same row.
CREATE UNIQUE INDEX needs_notice_lot ON needs (source, procedure_id, lot_id)
    WHERE procedure_id IS NOT NULL;
CREATE INDEX needs_unclaimed_buyer ON needs (buyer_org_number) WHERE buyer_id IS NULL;
CREATE INDEX needs_source ON needs (source);

-- One row per `fetch-notices` run (CLI or worker). An unfinished run keeps the query and the
-- TED iteration token of the next page, so the next run resumes there instead of starting over.
CREATE TABLE notice_fetch_runs (
    id               bigserial PRIMARY KEY,
    source           text NOT NULL DEFAULT 'ted' CHECK (source IN ('ted')),
    query            text NOT NULL CHECK (length(query) <= 4000),
    since            date NOT NULL,
    next_token       text,
    pages            integer NOT NULL DEFAULT 0,
    notices          integer NOT NULL DEFAULT 0,
    imported         integer NOT NULL DEFAULT 0,
    skipped          integer NOT NULL DEFAULT 0,
    -- Latest publication date seen, where a later run with no --since starts.
    last_published   date,
    state            text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'done', 'failed')),
    error            text,
    started_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz
);
CREATE INDEX notice_fetch_runs_recent ON notice_fetch_runs (source, id DESC);
