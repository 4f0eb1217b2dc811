"""The durable job queue in PostgreSQL (see sql/002_jobs.sql for how it stays durable)."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from asfmatch.storage.db import Connection

# Job kinds. A kind names what to do with the entity whose id the job carries.
RANK_NEED = "rank_need"
RANK_SUPPLIER = "rank_supplier"

# Seconds to wait before attempt n+1: quick first retries, then spread out; jitter is added.
RETRY_DELAYS = (1.0, 5.0, 30.0, 120.0, 600.0, 1800.0, 3600.0, 3600.0, 3600.0)


class Job(msgspec.Struct, frozen=True, kw_only=True):
    """A claimed job: what to do, to which entity, and how many times it was tried."""

    id: int
    kind: str
    entity_id: int
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    created_at: datetime


async def enqueue(
    connection: Connection,
    kind: str,
    entity_id: int,
    payload: dict[str, Any] | None = None,
    *,
    delay_seconds: float = 0.0,
) -> None:
    """Queue a job on the caller's connection, so it commits or rolls back with the caller's write.

    A job of the same kind for the same entity that is still queued absorbs this one."""
    await connection.execute(
        """
        INSERT INTO jobs (kind, entity_id, payload, run_at)
        VALUES ($1, $2, $3, now() + make_interval(secs => $4))
        ON CONFLICT (kind, entity_id) WHERE state = 'queued'
        DO UPDATE SET run_at = least(jobs.run_at, excluded.run_at), payload = excluded.payload
        """,
        kind,
        entity_id,
        payload or {},
        delay_seconds,
    )


def enqueue_for_rows(kind: str, rows: str, condition: str = "true") -> str:
    """An INSERT that queues a `kind` job for each row (its `id`) of `rows`, a CTE of the
    caller's statement, where `condition` holds: the write and its job in one statement. Only
    for rows the statement creates, which can have no queued job to absorb it (`enqueue`). The
    kind is a module constant, never input."""
    if kind not in (RANK_NEED, RANK_SUPPLIER):
        raise ValueError(kind)
    return (
        f"INSERT INTO jobs (kind, entity_id) SELECT '{kind}', {rows}.id FROM {rows} "
        f"WHERE {condition} RETURNING id"
    )


async def claim(
    connection: Connection, worker_id: str, lease_seconds: float, kinds: list[str]
) -> Job | None:
    """Take the next due job (or one whose holder's lease ran out), or None if there is none.

    A job whose entity already has a job running waits, so two workers never race on one entity
    and an older result can never overwrite a newer one."""
    row = await connection.fetchrow(
        """
        UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = $1,
                        locked_until = now() + make_interval(secs => $2)
        WHERE id = (
            SELECT j.id FROM jobs j
            WHERE j.kind = ANY($3::text[])
              AND ((j.state = 'queued' AND j.run_at <= now())
                   OR (j.state = 'running' AND j.locked_until < now()))
              AND NOT EXISTS (
                  SELECT 1 FROM jobs r
                  WHERE r.kind = j.kind AND r.entity_id = j.entity_id AND r.id <> j.id
                    AND r.state = 'running' AND r.locked_until >= now())
            ORDER BY j.run_at, j.id
            FOR UPDATE SKIP LOCKED
            LIMIT 1)
        RETURNING id, kind, entity_id, payload, attempts, max_attempts, created_at
        """,
        worker_id,
        lease_seconds,
        kinds,
    )
    return None if row is None else Job(**dict(row))


async def extend_lease(
    connection: Connection, job_id: int, worker_id: str, lease_seconds: float
) -> bool:
    """Renew the lease of a running job; False if another worker has taken it over."""
    status: str = await connection.execute(
        """
        UPDATE jobs SET locked_until = now() + make_interval(secs => $3)
        WHERE id = $1 AND locked_by = $2 AND state = 'running'
        """,
        job_id,
        worker_id,
        lease_seconds,
    )
    return status.endswith(" 1")


async def complete(connection: Connection, job_id: int, worker_id: str) -> bool:
    """Mark a job done if this worker still holds it; False means another worker took it over.

    Earlier failed jobs of the same kind and entity are settled by this success (superseded),
    so `asfmatch jobs --failed` and a list's `failed` status show only what is still wrong."""
    done: int = await connection.fetchval(
        """
        WITH done AS (
            UPDATE jobs SET state = 'done', finished_at = now(), locked_until = NULL
            WHERE id = $1 AND locked_by = $2 AND state = 'running'
            RETURNING id, kind, entity_id
        ), settled AS (
            UPDATE jobs j SET state = 'superseded'
            FROM done WHERE j.kind = done.kind AND j.entity_id = done.entity_id
              AND j.state = 'failed' AND j.id < done.id
        )
        SELECT count(*) FROM done
        """,
        job_id,
        worker_id,
    )
    return done == 1


def retry_delay(attempts: int) -> float:
    """Seconds before the next try after `attempts` failed ones, with up to 25 % jitter."""
    base = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
    return base * (1 + random.random() * 0.25)  # noqa: S311 - jitter, not security


async def fail(
    connection: Connection, job: Job, worker_id: str, error: str, max_attempts: int | None = None
) -> str:
    """Record a failed attempt: queue it again after a backoff, or give up after `max_attempts`
    (the job kind's, from workers/registry.py; else the row's)."""
    if job.attempts >= (job.max_attempts if max_attempts is None else max_attempts):
        await connection.execute(
            """
            UPDATE jobs SET state = 'failed', finished_at = now(), last_error = $3,
                            locked_until = NULL
            WHERE id = $1 AND locked_by = $2
            """,
            job.id,
            worker_id,
            error[:2000],
        )
        return "failed"
    try:
        async with connection.transaction():
            await connection.execute(
                """
                UPDATE jobs SET state = 'queued', last_error = $3, locked_until = NULL,
                                run_at = now() + make_interval(secs => $4)
                WHERE id = $1 AND locked_by = $2
                """,
                job.id,
                worker_id,
                error[:2000],
                retry_delay(job.attempts),
            )
    except asyncpg.UniqueViolationError:
        # A newer job for the same entity is already queued; it does this one's work too.
        await connection.execute(
            """
            UPDATE jobs SET state = 'superseded', last_error = $3, locked_until = NULL,
                            finished_at = now()
            WHERE id = $1 AND locked_by = $2
            """,
            job.id,
            worker_id,
            error[:2000],
        )
        return "superseded"
    return "retry"


async def has_open_job(connection: Connection, kind: str, entity_id: int) -> bool:
    """True while a job of this kind for this entity is queued or running."""
    found = await connection.fetchval(
        """
        SELECT EXISTS (SELECT 1 FROM jobs WHERE kind = $1 AND entity_id = $2
                       AND state IN ('queued', 'running'))
        """,
        kind,
        entity_id,
    )
    return bool(found)


async def counts(connection: Connection) -> dict[str, int]:
    """How many jobs are queued, running and failed, for /health. Only the partial indexes on
    those states are read; done jobs (the bulk, until retention prunes them) are not counted."""
    row = await connection.fetchrow(
        """
        SELECT (SELECT count(*) FROM jobs WHERE state = 'queued') AS queued,
               (SELECT count(*) FROM jobs WHERE state = 'running') AS running,
               (SELECT count(*) FROM jobs WHERE state = 'failed') AS failed
        """
    )
    assert row is not None
    return {state: int(row[state]) for state in ("queued", "running", "failed") if row[state]}


class JobRow(msgspec.Struct, frozen=True, kw_only=True):
    """A job as `asfmatch jobs` lists it."""

    id: int
    kind: str
    entity_id: int
    state: str
    attempts: int
    run_at: datetime
    finished_at: datetime | None
    last_error: str | None


async def list_jobs(connection: Connection, *, failed_only: bool, limit: int) -> list[JobRow]:
    """The newest jobs (only failed ones if asked), newest first."""
    rows = await connection.fetch(
        f"""
        SELECT id, kind, entity_id, state, attempts, run_at, finished_at, last_error FROM jobs
        {"WHERE state = 'failed'" if failed_only else ""}
        ORDER BY id DESC LIMIT $1
        """,
        limit,
    )
    return [JobRow(**dict(row)) for row in rows]


async def requeue(connection: Connection, job_id: int) -> str:
    """Queue a failed job again with fresh attempts. "requeued", "merged" (a queued job of the
    same kind and entity already does its work), "not failed" or "unknown"."""
    row = await connection.fetchrow(
        "SELECT kind, entity_id, state FROM jobs WHERE id = $1 FOR UPDATE", job_id
    )
    if row is None:
        return "unknown"
    if row["state"] != "failed":
        return "not failed"
    try:
        async with connection.transaction():
            await connection.execute(
                """
                UPDATE jobs SET state = 'queued', attempts = 0, run_at = now(), finished_at = NULL,
                                locked_by = NULL, locked_until = NULL
                WHERE id = $1
                """,
                job_id,
            )
    except asyncpg.UniqueViolationError:
        await connection.execute(
            "UPDATE jobs SET state = 'superseded', finished_at = now() WHERE id = $1", job_id
        )
        return "merged"
    return "requeued"


async def ranking_failed(connection: Connection, kind: str, entity_id: int) -> bool:
    """True when the latest job of this kind for this entity failed for good."""
    state: str | None = await connection.fetchval(
        "SELECT state FROM jobs WHERE kind = $1 AND entity_id = $2 ORDER BY id DESC LIMIT 1",
        kind,
        entity_id,
    )
    return state == "failed"
