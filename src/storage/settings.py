"""Every setting the service reads from the environment, in one place."""

from __future__ import annotations

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
    # Requests per minute per API key, and per client address for unauthenticated calls.
    rate_limit_per_key: int = 600
    rate_limit_per_address: int = 300
    # Largest request body accepted, in bytes.
    max_body_bytes: int = 1_000_000
    # Public base URL, used in links sent to suppliers (webhooks, e-mail).
    public_url: str = "http://127.0.0.1:8000"
    # How many top-ranked suppliers a need's match list keeps.
    match_list_size: int = 20
    # Seconds between worker polls when no NOTIFY arrives (NOTIFY normally wakes it at once).
    worker_poll_seconds: float = 2.0
    # Seconds a worker holds a job before another worker may take it over (crash recovery).
    job_lease_seconds: float = 30.0
    log_level: str = "INFO"

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
            rate_limit_per_key=_int(env, "ASFMATCH_RATE_LIMIT_PER_KEY", 600),
            rate_limit_per_address=_int(env, "ASFMATCH_RATE_LIMIT_PER_ADDRESS", 300),
            max_body_bytes=_int(env, "ASFMATCH_MAX_BODY_BYTES", 1_000_000),
            public_url=env.get("ASFMATCH_PUBLIC_URL", "http://127.0.0.1:8000"),
            match_list_size=_int(env, "ASFMATCH_MATCH_LIST_SIZE", 20),
            worker_poll_seconds=_float(env, "ASFMATCH_WORKER_POLL_SECONDS", 2.0),
            job_lease_seconds=_float(env, "ASFMATCH_JOB_LEASE_SECONDS", 30.0),
            log_level=env.get("ASFMATCH_LOG_LEVEL", "INFO"),
        )
