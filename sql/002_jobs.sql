-- The durable job queue: a job is a row inserted in the same transaction as the write that
-- causes it, so it commits or vanishes with that write. Workers claim rows with
-- FOR UPDATE SKIP LOCKED and hold them under a lease; a worker that dies (even by SIGKILL)
-- stops renewing its lease and another worker takes the job over when it runs out.

CREATE TABLE jobs (
    id           bigserial PRIMARY KEY,
    kind         text NOT NULL CHECK (length(kind) <= 64),
    entity_id    bigint NOT NULL,
    payload      jsonb NOT NULL DEFAULT '{}',
    state        text NOT NULL DEFAULT 'queued'
                   CHECK (state IN ('queued', 'running', 'done', 'failed', 'superseded')),
    attempts     integer NOT NULL DEFAULT 0,
    max_attempts integer NOT NULL DEFAULT 10,
    run_at       timestamptz NOT NULL DEFAULT now(),
    locked_until timestamptz,
    locked_by    text,
    last_error   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz
);
-- At most one queued job per (kind, entity): ten quick edits of a need rank it once.
CREATE UNIQUE INDEX jobs_one_queued ON jobs (kind, entity_id) WHERE state = 'queued';
CREATE INDEX jobs_claimable ON jobs (run_at, id) WHERE state IN ('queued', 'running');
CREATE INDEX jobs_entity_open ON jobs (kind, entity_id) WHERE state IN ('queued', 'running');

-- Wake sleeping workers at commit time (NOTIFY is transactional) instead of making them poll.
CREATE FUNCTION jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('asfmatch_jobs', '');
    RETURN NULL;
END $$;
CREATE TRIGGER jobs_notify AFTER INSERT ON jobs FOR EACH STATEMENT EXECUTE FUNCTION jobs_notify();

-- Match results: the union of both directions' lists. A score is a function of the pair, the
-- same whichever side asked, so a need's list is simply its best-scored rows here, and so is a
-- supplier's. The flags say which side's list put the row here; a row neither side keeps goes.
CREATE TABLE matches (
    need_id          bigint NOT NULL REFERENCES needs (id) ON DELETE CASCADE,
    supplier_id      bigint NOT NULL REFERENCES supplier_profiles (id) ON DELETE CASCADE,
    score            double precision NOT NULL CHECK (score BETWEEN 0 AND 1),
    explanation      jsonb NOT NULL,
    model_version    text NOT NULL,
    in_need_list     boolean NOT NULL DEFAULT false,
    in_supplier_list boolean NOT NULL DEFAULT false,
    computed_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (need_id, supplier_id)
);
CREATE INDEX matches_supplier ON matches (supplier_id, score DESC);
CREATE INDEX matches_need_score ON matches (need_id, score DESC);
