"""Every setting the service reads from the environment, in one place."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path

import msgspec


class SettingsError(ValueError):
    """An environment variable holds a value the service cannot use."""


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None


def _at_least_one(env: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if value < 1:
        raise SettingsError(f"{name} must be at least 1, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    raw = (env.get(name) or default).lower()
    if raw not in allowed:
        raise SettingsError(f"{name} must be one of {', '.join(allowed)}, got {raw!r}")
    return raw


def _networks(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = env.get(name) or ""
    entries = tuple(entry.strip() for entry in raw.split(",") if entry.strip())
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise SettingsError(
                f"{name} must list IP addresses or CIDR networks, got {entry!r}"
            ) from None
    return entries


def _cpv_prefixes(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = env.get(name) or ""
    prefixes = tuple(part.strip() for part in raw.split(",") if part.strip())
    for prefix in prefixes:
        if not prefix.isdigit() or not 2 <= len(prefix) <= 8:
            raise SettingsError(
                f"{name} must be comma-separated CPV prefixes of 2-8 digits, got {prefix!r}"
            )
    return prefixes


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Service configuration; build it with `Settings.from_env()` and pass it down."""

    # postgresql://… of an existing server; unset starts embedded PostgreSQL under data_dir.
    database_url: str | None = None
    # redis://… or unix://… of an existing server; unset starts embedded Redis under data_dir.
    redis_url: str | None = None
    # Where the embedded servers keep their data between runs.
    data_dir: Path = Path(".asfmatch")
    # Prefix of every Redis key, so several deployments (or tests) can share one Redis.
    redis_prefix: str = "asfmatch:"
    # Seconds a Redis call may take before the API falls back to PostgreSQL.
    redis_timeout: float = 0.25
    db_pool_min: int = 1
    db_pool_max: int = 10
    # How long a request waits for a pooled connection before it is answered 503.
    db_acquire_timeout: float = 5.0
    # Requests per minute per organisation (all its API keys together, so minting keys buys no
    # extra allowance), and per client address (every call, keyed or not: a client cycling
    # through made-up keys still meets the address limit). The address limit is the higher
    # one, so one office behind one address can use a full organisation's allowance.
    rate_limit_per_organisation: int = 600
    rate_limit_per_address: int = 1200
    # Unrevoked API keys one organisation may hold; creating one more is a 409.
    max_api_keys_per_organisation: int = 20
    # Reverse proxies (CIDRs) whose X-Forwarded-For names the client; nobody else's is read.
    trusted_proxies: tuple[str, ...] = ()
    # Largest request body accepted, in bytes.
    max_body_bytes: int = 1_000_000
    # Seconds a request may take to send its headers (from the connection or the previous
    # response), and then its body; past either, 408 and the connection closes.
    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 30.0
    # Public base URL, used in links sent to suppliers (webhooks, e-mail).

    # Public base URL, used in links sent to suppliers (webhooks, e-mail) and shown by the
    # demo. Unset, `serve` and `demo` use the address they listen on (`public_url_for`).
    public_url: str = "http://127.0.0.1:8000"
    public_url_set: bool = False
    # How many top-ranked suppliers a need's match list keeps.
    match_list_size: int = 20
    # Seconds between worker polls when no NOTIFY arrives (NOTIFY normally wakes it at once).
    worker_poll_seconds: float = 2.0
    # Seconds a worker holds a job before another worker may take it over (crash recovery).
    job_lease_seconds: float = 30.0
    # Seconds between the worker's checks for needs past their deadline.
    deadline_check_seconds: float = 30.0
    # How often the worker looks for needs whose outcome follow-up (7 and 30 days after the
    # deadline) is due.
    outcome_check_seconds: float = 3600.0
    # Seconds between reconciles: each worker rebuilds its index from PostgreSQL and removes
    # pairs of closed needs or inactive suppliers that slipped into lists.
    reconcile_seconds: float = 900.0
    # Seconds between retention runs, and how many days finished jobs, settled webhook
    # messages (with their attempts) and daily push counters are kept.
    retention_check_seconds: float = 3600.0
    retention_jobs_days: float = 7.0
    retention_webhook_days: float = 30.0
    retention_counter_days: float = 7.0
    log_level: str = "INFO"
    # Match notifications (docs/notifications.md). A need tells at most this many of its best
    # suppliers, and only those scoring at least notify_min_score.
    notify_top_n: int = 10
    notify_min_score: float = 0.15
    # Joint bids (docs/joint-bids.md): suggested when no eligible ASF scores at least
    # joint_bid_min_score, from groups of ASFs each scoring at least that much; the search
    # looks at the best joint_bid_candidates and keeps joint_bid_groups groups.
    joint_bid_min_score: float = 0.15
    joint_bid_candidates: int = 30
    joint_bid_groups: int = 5
    # Instant pushes (live stream, webhook) per supplier and Swedish calendar day; the rest
    # still reach the inbox and the e-mail digest.
    notify_daily_cap: int = 20
    # Seconds between keep-alive comments on a live stream (each also re-reads PostgreSQL).
    sse_heartbeat_seconds: float = 15.0
    # Live streams one API key may hold open at once, per API process; one more is a 429.
    max_streams_per_key: int = 5
    # Live page streams all signed-out visitors together may hold open, per API process (a
    # signed-in session has `max_streams_per_key`); past it pages fall back to polling.
    max_public_streams: int = 500
    # Set by `asfmatch demo` only (never from the environment): the presenter screen may then
    # start the guided run and reset the demo. A production `serve` keeps the presenter
    # strictly read-only.
    demo_mode: bool = False
    # Self-service sign-ups one client address may make per hour (the page answers 429 past it).
    signups_per_hour: int = 5
    # Allow webhook URLs that resolve to loopback, private or link-local addresses (tests, demo).
    webhook_allow_private: bool = False
    # Seconds one webhook request may take, connect to last header.
    webhook_timeout_seconds: float = 15.0
    # An endpoint still failing this many days after its first failure is disabled.
    webhook_disable_after_days: float = 5.0
    # Hours a rotated-away webhook secret keeps signing next to the new one.
    webhook_secret_overlap_hours: float = 24.0
    # SMTP server for e-mail digests; unset turns e-mail off.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    # "starttls" (upgrade a plain connection), "tls" (implicit TLS, port 465) or "none".
    smtp_security: str = "starttls"
    email_from: str = "asf-match <noreply@asf-match.invalid>"
    # Public notices (docs/notices.md). The worker fetches Swedish TED notices every
    # ted_fetch_interval_hours when ted_fetch_enabled; `asfmatch fetch-notices` works regardless.
    ted_fetch_enabled: bool = False
    ted_search_url: str = "https://api.ted.europa.eu/v3/notices/search"
    ted_fetch_interval_hours: float = 6.0
    # CPV prefixes to fetch (empty: every Swedish notice); digits only, e.g. ("9091", "555").
    ted_fetch_cpv: tuple[str, ...] = ()
    # Days back the very first fetch looks when no --since is given.
    ted_first_fetch_days: int = 7
    # Seconds one TED request may take.
    ted_timeout_seconds: float = 30.0
    # Verified criteria (docs/trust.md). A support body's verification holds this many months
    # from the day of the check: two annual reports, so a share measured long ago does not
    # stand for ever, while a support body can re-check at its own pace.
    verification_valid_months: int = 24
    # Reserved contracts admit only suppliers with a valid verification. Off by default: few
    # ASFs are verified yet, and turning it on empties reserved needs' lists until the support
    # bodies of a region have caught up.
    reserved_requires_verification: bool = False
    # Structured answers (docs/trust.md). A need declined as "too large" by at least this many
    # suppliers shows its buyer the hint to split it into lots.
    lots_hint_too_large: int = 2
    # A supplier's repeated "wrong service" lowers similar needs (same CPV group) in its
    # notifications: once its decayed count for a group reaches wrong_service_repeat, a need
    # of that group is judged at score × wrong_service_factor; each answer's weight halves
    # every wrong_service_half_life_days; needs scoring at least wrong_service_strong_score are
    # never lowered.
    wrong_service_repeat: float = 1.5
    wrong_service_factor: float = 0.5
    wrong_service_half_life_days: float = 90.0
    wrong_service_strong_score: float = 0.5
    # Potential and advice for a draft need (docs/advice.md). An ASF counts as relevant when
    # the ranking scores it at least potential_min_score: by default the score at which a need
    # notifies a supplier, so "relevant" means "would be told about it".
    potential_min_score: float = 0.15
    # Reserve the whole contract (LOU 4 kap. 18 §) when at least this many relevant ASFs
    # meeting the 30 % rule can each carry its whole value and training places: with fewer, a
    # reserved procurement risks one tender or none.
    advice_reserve_min_suppliers: int = 3
    # Otherwise reserve lots, split into the fewest lots (at most advice_max_lots) that at
    # least this many of them can each carry: two keep a competition for every lot.
    advice_lot_min_suppliers: int = 2
    advice_max_lots: int = 10
    # Otherwise an employment requirement (LOU 17 kap. 1 §) from this estimated value on: a
    # contract worth less can hardly carry a job or placement for its term in proportion.
    advice_employment_min_value_sek: int = 1_000_000

    def public_url_for(self, host: str, port: int) -> str:
        """ASFMATCH_PUBLIC_URL if set, else the address a server on host:port is reached at."""
        if self.public_url_set:
            return self.public_url
        shown = "127.0.0.1" if host in {"", "0.0.0.0", "::"} else host  # noqa: S104
        if ":" in shown:
            shown = f"[{shown}]"
        return f"http://{shown}:{port}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read settings from `env` (default: os.environ); raise SettingsError on bad values."""
        env = os.environ if env is None else env
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            redis_url=env.get("REDIS_URL") or None,
            data_dir=Path(env.get("ASFMATCH_DATA_DIR") or ".asfmatch"),
            redis_prefix=env.get("ASFMATCH_REDIS_PREFIX", "asfmatch:"),
            redis_timeout=_float(env, "ASFMATCH_REDIS_TIMEOUT", 0.25),
            db_pool_min=_int(env, "ASFMATCH_DB_POOL_MIN", 1),
            db_pool_max=_int(env, "ASFMATCH_DB_POOL_MAX", 10),
            db_acquire_timeout=_float(env, "ASFMATCH_DB_ACQUIRE_TIMEOUT", 5.0),
            # The old name (it always meant every key of the caller) still works.
            rate_limit_per_organisation=_int(
                env,
                "ASFMATCH_RATE_LIMIT_PER_ORGANISATION",
                _int(env, "ASFMATCH_RATE_LIMIT_PER_KEY", 600),
            ),
            max_api_keys_per_organisation=_int(env, "ASFMATCH_MAX_API_KEYS_PER_ORGANISATION", 20),
            trusted_proxies=_networks(env, "ASFMATCH_TRUSTED_PROXIES"),
            rate_limit_per_address=_int(env, "ASFMATCH_RATE_LIMIT_PER_ADDRESS", 1200),
            max_body_bytes=_int(env, "ASFMATCH_MAX_BODY_BYTES", 1_000_000),
            header_timeout_seconds=_float(env, "ASFMATCH_HEADER_TIMEOUT_SECONDS", 10.0),
            body_timeout_seconds=_float(env, "ASFMATCH_BODY_TIMEOUT_SECONDS", 30.0),
            public_url=env.get("ASFMATCH_PUBLIC_URL") or "http://127.0.0.1:8000",
            public_url_set=bool(env.get("ASFMATCH_PUBLIC_URL")),
            match_list_size=_int(env, "ASFMATCH_MATCH_LIST_SIZE", 20),
            worker_poll_seconds=_float(env, "ASFMATCH_WORKER_POLL_SECONDS", 2.0),
            job_lease_seconds=_float(env, "ASFMATCH_JOB_LEASE_SECONDS", 30.0),
            deadline_check_seconds=_float(env, "ASFMATCH_DEADLINE_CHECK_SECONDS", 30.0),
            outcome_check_seconds=_float(env, "ASFMATCH_OUTCOME_CHECK_SECONDS", 3600.0),
            reconcile_seconds=_float(env, "ASFMATCH_RECONCILE_SECONDS", 900.0),
            retention_check_seconds=_float(env, "ASFMATCH_RETENTION_CHECK_SECONDS", 3600.0),
            retention_jobs_days=_float(env, "ASFMATCH_RETENTION_JOBS_DAYS", 7.0),
            retention_webhook_days=_float(env, "ASFMATCH_RETENTION_WEBHOOK_DAYS", 30.0),
            retention_counter_days=_float(env, "ASFMATCH_RETENTION_COUNTER_DAYS", 7.0),
            log_level=env.get("ASFMATCH_LOG_LEVEL", "INFO"),
            notify_top_n=_int(env, "ASFMATCH_NOTIFY_TOP_N", 10),
            notify_min_score=_float(env, "ASFMATCH_NOTIFY_MIN_SCORE", 0.15),
            joint_bid_min_score=_float(env, "ASFMATCH_JOINT_BID_MIN_SCORE", 0.15),
            joint_bid_candidates=_int(env, "ASFMATCH_JOINT_BID_CANDIDATES", 30),
            joint_bid_groups=_int(env, "ASFMATCH_JOINT_BID_GROUPS", 5),
            notify_daily_cap=_int(env, "ASFMATCH_NOTIFY_DAILY_CAP", 20),
            sse_heartbeat_seconds=_float(env, "ASFMATCH_SSE_HEARTBEAT_SECONDS", 15.0),
            max_streams_per_key=_int(env, "ASFMATCH_MAX_STREAMS_PER_KEY", 5),
            max_public_streams=_int(env, "ASFMATCH_MAX_PUBLIC_STREAMS", 500),
            signups_per_hour=_int(env, "ASFMATCH_SIGNUPS_PER_HOUR", 5),
            webhook_allow_private=_bool(env, "ASFMATCH_WEBHOOK_ALLOW_PRIVATE", False),
            webhook_timeout_seconds=_float(env, "ASFMATCH_WEBHOOK_TIMEOUT_SECONDS", 15.0),
            webhook_disable_after_days=_float(env, "ASFMATCH_WEBHOOK_DISABLE_AFTER_DAYS", 5.0),
            webhook_secret_overlap_hours=_float(env, "ASFMATCH_WEBHOOK_SECRET_OVERLAP_HOURS", 24.0),
            smtp_host=env.get("ASFMATCH_SMTP_HOST") or None,
            smtp_port=_int(env, "ASFMATCH_SMTP_PORT", 587),
            smtp_username=env.get("ASFMATCH_SMTP_USERNAME") or None,
            smtp_password=env.get("ASFMATCH_SMTP_PASSWORD") or None,
            smtp_security=_choice(
                env, "ASFMATCH_SMTP_SECURITY", "starttls", ("starttls", "tls", "none")
            ),
            email_from=env.get("ASFMATCH_EMAIL_FROM") or "asf-match <noreply@asf-match.invalid>",
            ted_fetch_enabled=_bool(env, "ASFMATCH_TED_FETCH_ENABLED", False),
            ted_search_url=env.get("ASFMATCH_TED_SEARCH_URL")
            or "https://api.ted.europa.eu/v3/notices/search",
            ted_fetch_interval_hours=_float(env, "ASFMATCH_TED_FETCH_INTERVAL_HOURS", 6.0),
            ted_fetch_cpv=_cpv_prefixes(env, "ASFMATCH_TED_FETCH_CPV"),
            ted_first_fetch_days=_int(env, "ASFMATCH_TED_FIRST_FETCH_DAYS", 7),
            ted_timeout_seconds=_float(env, "ASFMATCH_TED_TIMEOUT_SECONDS", 30.0),
            verification_valid_months=_int(env, "ASFMATCH_VERIFICATION_VALID_MONTHS", 24),
            reserved_requires_verification=_bool(
                env, "ASFMATCH_RESERVED_REQUIRES_VERIFICATION", False
            ),
            lots_hint_too_large=_int(env, "ASFMATCH_LOTS_HINT_TOO_LARGE", 2),
            wrong_service_repeat=_float(env, "ASFMATCH_WRONG_SERVICE_REPEAT", 1.5),
            wrong_service_factor=_float(env, "ASFMATCH_WRONG_SERVICE_FACTOR", 0.5),
            wrong_service_half_life_days=_float(env, "ASFMATCH_WRONG_SERVICE_HALF_LIFE_DAYS", 90.0),
            wrong_service_strong_score=_float(env, "ASFMATCH_WRONG_SERVICE_STRONG_SCORE", 0.5),
            potential_min_score=_float(env, "ASFMATCH_POTENTIAL_MIN_SCORE", 0.15),
            advice_reserve_min_suppliers=_at_least_one(
                env, "ASFMATCH_ADVICE_RESERVE_MIN_SUPPLIERS", 3
            ),
            advice_lot_min_suppliers=_at_least_one(env, "ASFMATCH_ADVICE_LOT_MIN_SUPPLIERS", 2),
            advice_max_lots=_at_least_one(env, "ASFMATCH_ADVICE_MAX_LOTS", 10),
            advice_employment_min_value_sek=_int(
                env, "ASFMATCH_ADVICE_EMPLOYMENT_MIN_VALUE_SEK", 1_000_000
            ),
        )
