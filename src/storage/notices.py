"""Needs imported from public notices: finding them by notice and lot, claims, fetch runs."""

from __future__ import annotations

from datetime import date, datetime

import asyncpg
import msgspec

from asfmatch.storage import needs as needs_repo
from asfmatch.storage.db import Connection
from asfmatch.storage.needs import Need


class ImportedNeed(msgspec.Struct, frozen=True, kw_only=True):
    """The notice bookkeeping of an imported need: which notice version it was last made from."""

    need_id: int
    notice_id: str | None
    notice_version: str | None
    notice_issued_at: datetime | None
    status: str


async def find_imported(
    connection: Connection, source: str, procedure_id: str, lot_id: str
) -> ImportedNeed | None:
    """The need imported from this procedure's lot, or None; locks it until commit, so two
    importers of the same notice cannot both insert or both update."""
    row = await connection.fetchrow(
        """
        SELECT id AS need_id, notice_id, notice_version, notice_issued_at, status
        FROM needs WHERE source = $1 AND procedure_id = $2 AND lot_id = $3
        FOR UPDATE
        """,
        source,
        procedure_id,
        lot_id,
    )
    return None if row is None else ImportedNeed(**dict(row))


async def procedure_needs(connection: Connection, source: str, procedure_id: str) -> list[Need]:
    """Every need imported from one procedure (all its lots), locked until commit."""
    ids = await connection.fetch(
        "SELECT id FROM needs WHERE source = $1 AND procedure_id = $2 ORDER BY id FOR UPDATE",
        source,
        procedure_id,
    )
    found = [await needs_repo.get_need(connection, row["id"]) for row in ids]
    return [need for need in found if need is not None]


async def buyer_with_org_number(connection: Connection, org_number: str) -> int | None:
    """The id of the buyer organisation with this organisation number, or None."""
    value = await connection.fetchval(
        "SELECT id FROM organisations WHERE org_number = $1 AND kind = 'buyer'", org_number
    )
    return None if value is None else int(value)


async def claim_needs(connection: Connection, buyer_id: int, org_number: str) -> list[int]:
    """Give every unowned imported need whose notice names `org_number` to `buyer_id`."""
    rows = await connection.fetch(
        """
        UPDATE needs SET buyer_id = $1
        WHERE buyer_id IS NULL AND buyer_org_number = $2
        RETURNING id
        """,
        buyer_id,
        org_number,
    )
    return sorted(row["id"] for row in rows)


async def unclaimed_count(connection: Connection, org_number: str) -> int:
    """How many imported needs name this organisation number and have no owner yet."""
    value = await connection.fetchval(
        "SELECT count(*) FROM needs WHERE buyer_id IS NULL AND buyer_org_number = $1", org_number
    )
    return int(value or 0)


# --- fetch runs ----------------------------------------------------------------------------


class FetchRun(msgspec.Struct, kw_only=True):
    """One `fetch-notices` run: its query, where it got to, and what it did."""

    id: int
    query: str
    since: date
    next_token: str | None
    pages: int
    notices: int
    imported: int
    skipped: int
    last_published: date | None
    state: str
    error: str | None
    started_at: datetime
    finished_at: datetime | None


_RUN_COLUMNS = (
    "id, query, since, next_token, pages, notices, imported, skipped, last_published, state, "
    "error, started_at, finished_at"
)


def _run(row: asyncpg.Record) -> FetchRun:
    return FetchRun(**dict(row))


async def last_run(connection: Connection) -> FetchRun | None:
    """The most recent fetch run, or None."""
    row = await connection.fetchrow(
        f"SELECT {_RUN_COLUMNS} FROM notice_fetch_runs WHERE source = 'ted' ORDER BY id DESC LIMIT 1"
    )
    return None if row is None else _run(row)


async def start_run(connection: Connection, query: str, since: date) -> FetchRun:
    """Record a new run of `query`."""
    row = await connection.fetchrow(
        f"INSERT INTO notice_fetch_runs (query, since) VALUES ($1, $2) RETURNING {_RUN_COLUMNS}",
        query,
        since,
    )
    assert row is not None
    return _run(row)


async def record_page(
    connection: Connection,
    run_id: int,
    *,
    next_token: str | None,
    notices: int,
    imported: int,
    skipped: int,
    last_published: date | None,
) -> None:
    """Count one page in and remember where the next one starts."""
    await connection.execute(
        """
        UPDATE notice_fetch_runs
        SET next_token = $2, pages = pages + 1, notices = notices + $3,
            imported = imported + $4, skipped = skipped + $5,
            last_published = greatest(last_published, $6)
        WHERE id = $1
        """,
        run_id,
        next_token,
        notices,
        imported,
        skipped,
        last_published,
    )


async def finish_run(connection: Connection, run_id: int, error: str | None) -> FetchRun:
    """Mark a run done, or failed with `error` (it keeps its token, so the next run resumes)."""
    row = await connection.fetchrow(
        f"""
        UPDATE notice_fetch_runs
        SET state = CASE WHEN $2::text IS NULL THEN 'done' ELSE 'failed' END,
            error = $2, finished_at = now()
        WHERE id = $1 RETURNING {_RUN_COLUMNS}
        """,
        run_id,
        error,
    )
    assert row is not None
    return _run(row)


# One fetch at a time (CLI and worker alike): a session-level advisory lock, so it is released
# when the holder's connection closes, even if it dies.
_FETCH_LOCK = 7_312_004


async def try_lock_fetching(connection: Connection) -> bool:
    """Take the fetch lock on this connection if nobody holds it; True if taken."""
    return bool(await connection.fetchval("SELECT pg_try_advisory_lock($1)", _FETCH_LOCK))


async def unlock_fetching(connection: Connection) -> None:
    """Release the fetch lock taken on this connection."""
    await connection.execute("SELECT pg_advisory_unlock($1)", _FETCH_LOCK)


FETCH_JOB = "fetch_notices"


async def schedule_fetch(connection: Connection, delay_seconds: float) -> bool:
    """Queue the scheduled fetch unless one is already queued or running; True if queued.

    Unlike jobs.enqueue, an existing queued fetch keeps its time: calling this every minute
    must not pull the next fetch forward."""
    status = await connection.execute(
        """
        INSERT INTO jobs (kind, entity_id, run_at)
        SELECT $1, 0, now() + make_interval(secs => $2)
        WHERE NOT EXISTS (
            SELECT 1 FROM jobs WHERE kind = $1 AND state IN ('queued', 'running'))
        ON CONFLICT DO NOTHING
        """,
        FETCH_JOB,
        delay_seconds,
    )
    return status.endswith(" 1")


async def schedule_next_fetch(connection: Connection, delay_seconds: float) -> None:
    """From inside the running fetch job: queue the next one `delay_seconds` from now."""
    await connection.execute(
        """
        INSERT INTO jobs (kind, entity_id, run_at)
        VALUES ($1, 0, now() + make_interval(secs => $2))
        ON CONFLICT DO NOTHING
        """,
        FETCH_JOB,
        delay_seconds,
    )
