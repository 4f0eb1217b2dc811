"""A worker killed with SIGKILL in the middle of a job: another worker finishes the job."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from asfmatch.storage.settings import Settings
from testkit import Keys

pytestmark = pytest.mark.slow


def _worker(settings: Settings, tmp_path: Path) -> subprocess.Popen[bytes]:
    assert settings.database_url and settings.redis_url
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "ASFMATCH_DATA_DIR": str(tmp_path),
        "ASFMATCH_JOB_LEASE_SECONDS": "2",
        "ASFMATCH_WORKER_POLL_SECONDS": "0.2",
    }
    return subprocess.Popen([sys.executable, "-m", "asfmatch", "worker"], env=env)


async def _wait_for(db: asyncpg.Connection, query: str, *args: object) -> object:
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        value = await db.fetchval(query, *args)
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for: {query}")
        await asyncio.sleep(0.1)


async def test_a_job_whose_worker_was_killed_mid_job_is_finished_by_another(
    client: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
    keys: Keys,
    db: asyncpg.Connection,
    database_url: str,
    tmp_path: Path,
) -> None:
    supplier_org, supplier = await keys.make("supplier", "Städkooperativet Trean")
    number = await db.fetchval("SELECT org_number FROM organisations WHERE id = $1", supplier_org)
    profile = await client.post(
        "/api/v1/suppliers",
        json={
            "name": "Städkooperativet Trean",
            "org_number": number,
            "legal_form": "ekonomisk_forening",
            "description": "Städning av skolor och kontor i Luleå.",
            "cpv_codes": ["90910000"],
            "service_area": ["25"],
            "employees": 10,
            "target_group_share": 0.5,
        },
        headers=supplier,
    )
    assert profile.status_code == 201
    _, buyer = await keys.make("buyer")
    created = await client.post(
        "/api/v1/needs",
        json={"title": "Städning av skolor", "kommun": "2580", "cpv_codes": ["90910000"]},
        headers=buyer,
    )
    need_id = created.json()["id"]
    # Hold the match table: the worker gets as far as storing its results, then waits on us.
    blocker = await asyncpg.connect(database_url)
    transaction = blocker.transaction()
    await transaction.start()
    await blocker.execute("LOCK TABLE matches IN ACCESS EXCLUSIVE MODE")
    first = _worker(settings, tmp_path)
    second = None
    try:
        job_id = await _wait_for(
            db,
            "SELECT id FROM jobs WHERE state = 'running' AND locked_by LIKE $1",
            f"%:{first.pid}:%",
        )
        await _wait_for(
            db,
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
        )
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        await transaction.rollback()
        second = _worker(settings, tmp_path)
        await _wait_for(db, "SELECT state = 'done' FROM jobs WHERE id = $1", job_id)
        row = await db.fetchrow("SELECT attempts, locked_by FROM jobs WHERE id = $1", job_id)
        assert row["attempts"] == 2, "claimed by the killed worker, then by the second"
        assert f":{second.pid}:" in row["locked_by"]
        # The second worker also runs the supplier's job; every job ends done.
        await _wait_for(db, "SELECT count(*) = 0 FROM jobs WHERE state <> 'done'")
        stored = await db.fetchval("SELECT supplier_id FROM matches WHERE need_id = $1", need_id)
        assert stored == profile.json()["id"]
    finally:
        await blocker.close()
        if first.poll() is None:
            first.kill()
        if second is not None:
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=20) == 0, "SIGTERM stops a worker cleanly"
