-- Sign-in for the pages: a browser session per signed-in organisation, and links that open one.
-- Only SHA-256 hashes of the random tokens are kept, like API keys.

CREATE TABLE web_sessions (
    token_hash      bytea PRIMARY KEY,
    -- NULL for a presenter (viewer) session, which belongs to no organisation.
    organisation_id bigint REFERENCES organisations (id) ON DELETE CASCADE,
    role            text NOT NULL CHECK (role IN ('buyer', 'supplier', 'admin', 'viewer')),
    -- An admin acting for an organisation sees and does what that organisation would.
    acting_for      bigint REFERENCES organisations (id) ON DELETE SET NULL,
    csrf_token      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL
);
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);

-- 'signin': made by an admin for one organisation, opens one session, then it is spent.
-- 'viewer': the presenter's read-only link; reusable until revoked.
CREATE TABLE web_links (
    id              bigserial PRIMARY KEY,
    token_hash      bytea NOT NULL UNIQUE,
    kind            text NOT NULL CHECK (kind IN ('signin', 'viewer')),
    organisation_id bigint REFERENCES organisations (id) ON DELETE CASCADE,
    label           text NOT NULL DEFAULT '' CHECK (length(label) <= 100),
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz,
    used_at         timestamptz,
    revoked_at      timestamptz,
    CHECK (kind = 'viewer' OR organisation_id IS NOT NULL)
);
