-- Match notifications: what each supplier was told, how it wants to be told, and the webhook
-- deliveries that carry it. Everything here is written by the worker in the same transaction as
-- the match results (see docs/notifications.md), so a notification commits or vanishes with them.

-- A supplier without a row gets the defaults below (the API reads them through a LEFT JOIN).
CREATE TABLE notification_preferences (
    supplier_id      bigint PRIMARY KEY REFERENCES supplier_profiles (id) ON DELETE CASCADE,
    min_score        double precision NOT NULL DEFAULT 0 CHECK (min_score BETWEEN 0 AND 1),
    -- Empty means "every län" / "every CPV area".
    lan              text[] NOT NULL DEFAULT '{}',
    cpv_prefixes     text[] NOT NULL DEFAULT '{}',
    channels         text[] NOT NULL DEFAULT '{inbox,sse,webhook,email}'
                       CHECK (channels <@ ARRAY['inbox', 'sse', 'webhook', 'email']
                              AND 'inbox' = ANY (channels)),
    digest_frequency text NOT NULL DEFAULT 'daily'
                       CHECK (digest_frequency IN ('immediate', 'hourly', 'daily', 'weekly', 'never')),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Per-supplier bookkeeping. Every notification for a supplier is written while holding this
-- row's lock, so a supplier's notification ids rise in commit order: "id > last seen" is a
-- gap-free cursor for the live stream and the e-mail digest.
CREATE TABLE notification_state (
    supplier_id    bigint PRIMARY KEY REFERENCES supplier_profiles (id) ON DELETE CASCADE,
    last_digest_at timestamptz,
    last_email_at  timestamptz,
    emailed_up_to  bigint NOT NULL DEFAULT 0
);

-- The inbox. `channels` are the channels this notification goes out on, fixed when it is
-- written (preferences at that moment, minus the instant ones when the daily cap was reached).
CREATE TABLE notifications (
    id          bigserial PRIMARY KEY,
    supplier_id bigint NOT NULL REFERENCES supplier_profiles (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('need.matched', 'needs.digest', 'webhook.disabled')),
    detail      jsonb NOT NULL DEFAULT '{}',
    channels    text[] NOT NULL,
    capped      boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    read_at     timestamptz
);
CREATE INDEX notifications_supplier ON notifications (supplier_id, id);
CREATE INDEX notifications_unread ON notifications (supplier_id, id) WHERE read_at IS NULL;

-- Which needs a supplier has been told about, and by which notification: one row per pair,
-- ever, so a re-ranked need never tells the same supplier twice.
CREATE TABLE notified_needs (
    supplier_id     bigint NOT NULL REFERENCES supplier_profiles (id) ON DELETE CASCADE,
    need_id         bigint NOT NULL REFERENCES needs (id) ON DELETE CASCADE,
    notification_id bigint NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    score           double precision NOT NULL,
    PRIMARY KEY (supplier_id, need_id)
);
CREATE INDEX notified_needs_notification ON notified_needs (notification_id);
CREATE INDEX notified_needs_need ON notified_needs (need_id);

-- A supplier's answer to a need it was told about; answering again replaces the answer.
CREATE TABLE need_interest (
    need_id     bigint NOT NULL REFERENCES needs (id) ON DELETE CASCADE,
    supplier_id bigint NOT NULL REFERENCES supplier_profiles (id) ON DELETE CASCADE,
    interested  boolean NOT NULL,
    reason      text NOT NULL DEFAULT '' CHECK (length(reason) <= 1000),
    answered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (need_id, supplier_id),
    FOREIGN KEY (supplier_id, need_id) REFERENCES notified_needs (supplier_id, need_id)
        ON DELETE CASCADE
);

-- Instant pushes (live stream, webhook) per supplier and Swedish calendar day, for the daily
-- cap. Kept in PostgreSQL so a restart does not reset it.
CREATE TABLE notification_quota (
    supplier_id bigint NOT NULL REFERENCES supplier_profiles (id) ON DELETE CASCADE,
    day         date NOT NULL,
    pushed      integer NOT NULL DEFAULT 0,
    PRIMARY KEY (supplier_id, day)
);

CREATE TABLE webhook_endpoints (
    id              bigserial PRIMARY KEY,
    supplier_id     bigint NOT NULL REFERENCES supplier_profiles (id) ON DELETE CASCADE,
    url             text NOT NULL CHECK (length(url) <= 2000),
    description     text NOT NULL DEFAULT '' CHECK (length(description) <= 200),
    enabled         boolean NOT NULL DEFAULT true,
    disabled_reason text,
    disabled_at     timestamptz,
    -- Set by the first failure after a success, cleared by a success: the endpoint is disabled
    -- when it is still failing this long after.
    failing_since   timestamptz,
    last_success_at timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_supplier ON webhook_endpoints (supplier_id);

-- Signing secrets (whsec_ + base64 of 32 random bytes). Kept in clear because signing needs
-- them. A rotated-away secret keeps signing until expires_at, so receivers can switch over.
CREATE TABLE webhook_secrets (
    id          bigserial PRIMARY KEY,
    endpoint_id bigint NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    secret      text NOT NULL CHECK (secret LIKE 'whsec\_%'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz
);
CREATE INDEX webhook_secrets_endpoint ON webhook_secrets (endpoint_id);

-- One message per (endpoint, event): its body is fixed at creation and its webhook_id is sent
-- on every attempt, so receivers can drop duplicates.
CREATE TABLE webhook_messages (
    id              bigserial PRIMARY KEY,
    webhook_id      text NOT NULL UNIQUE,
    endpoint_id     bigint NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    notification_id bigint REFERENCES notifications (id) ON DELETE CASCADE,
    event_type      text NOT NULL,
    body            text NOT NULL,
    state           text NOT NULL DEFAULT 'pending'
                      CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    UNIQUE (endpoint_id, notification_id)
);
CREATE INDEX webhook_messages_pending ON webhook_messages (endpoint_id) WHERE state = 'pending';

-- The delivery log an endpoint's owner reads: one row per attempt.
CREATE TABLE webhook_attempts (
    id              bigserial PRIMARY KEY,
    message_id      bigint NOT NULL REFERENCES webhook_messages (id) ON DELETE CASCADE,
    endpoint_id     bigint NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    attempt         integer NOT NULL,
    attempted_at    timestamptz NOT NULL DEFAULT now(),
    status_code     integer,
    outcome         text NOT NULL CHECK (outcome IN ('delivered', 'failed', 'gone')),
    error           text NOT NULL DEFAULT '',
    response_body   text NOT NULL DEFAULT '',
    duration_ms     integer NOT NULL,
    next_attempt_at timestamptz
);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id);
