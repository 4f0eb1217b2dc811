"""`asfmatch jobs` shows what failed for good, and `asfmatch jobs requeue` gives it new tries."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from testkit import run_asfmatch

pytestmark = pytest.mark.slow


async def test_failed_jobs_are_listed_and_requeued(
    database_url: str, redis_url: str, tmp_path: Path, db: asyncpg.Connection
) -> None:
    failed = await db.fetchval(
        "INSERT INTO jobs (kind, entity_id, state, attempts, last_error, finished_at) "
        "VALUES ('rank_need', 42, 'failed', 10, 'RuntimeError: boom', now()) RETURNING id"
    )
    await db.execute("INSERT INTO jobs (kind, entity_id, state) VALUES ('rank_need', 43, 'done')")
    listed = run_asfmatch(["jobs", "--failed"], database_url, redis_url, tmp_path)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()[1:]
    assert len(lines) == 1 and str(failed) in lines[0] and "RuntimeError: boom" in lines[0]
    everything = run_asfmatch(["jobs"], database_url, redis_url, tmp_path)
    assert len(everything.stdout.splitlines()) == 3

    requeued = run_asfmatch(
        ["jobs", "requeue", str(failed), "999999"], database_url, redis_url, tmp_path
    )
    assert requeued.returncode == 1  # one of the ids is unknown
    assert f"job {failed}: requeued" in requeued.stdout and "job 999999: unknown" in requeued.stdout
    row = await db.fetchrow("SELECT state, attempts FROM jobs WHERE id = $1", failed)
    assert row is not None and (row["state"], row["attempts"]) == ("queued", 0)
    none_left = run_asfmatch(["jobs", "--failed"], database_url, redis_url, tmp_path)
    assert "no failed jobs" in none_left.stdout
