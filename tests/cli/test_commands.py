"""The `asfmatch` commands as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

pytestmark = pytest.mark.slow


def _run(
    args: list[str], database_url: str, redis_url: str, tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "ASFMATCH_DATA_DIR": str(tmp_path),
    }
    return subprocess.run(
        [sys.executable, "-m", "asfmatch", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_commands_refuse_to_run_on_an_unmigrated_database_and_migrate_fixes_it(
    empty_database: str, redis_url: str, tmp_path: Path
) -> None:
    refused = _run(["worker", "--drain"], empty_database, redis_url, tmp_path)
    assert refused.returncode == 1
    assert "pending migrations" in refused.stderr and "asfmatch migrate" in refused.stderr
    first = _run(["migrate"], empty_database, redis_url, tmp_path)
    assert first.returncode == 0 and "applied 3 migration(s)" in first.stdout
    again = _run(["migrate"], empty_database, redis_url, tmp_path)
    assert again.returncode == 0 and "applied 0 migration(s)" in again.stdout
    drained = _run(["worker", "--drain"], empty_database, redis_url, tmp_path)
    assert drained.returncode == 0 and "ran 0 job(s)" in drained.stdout


async def test_create_admin_key_prints_a_working_admin_key(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    from storage.organisations import authenticate

    done = _run(["create-admin-key"], database_url, redis_url, tmp_path)
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip()
    assert key.startswith("asfm_")
    connection = await asyncpg.connect(database_url)
    try:
        principal = await authenticate(connection, key)
    finally:
        await connection.close()
    assert principal is not None and principal.role == "admin"


def test_a_bad_setting_is_reported_not_a_traceback(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    env_args = ["migrate"]
    env = {**os.environ, "DATABASE_URL": database_url, "ASFMATCH_DB_POOL_MAX": "many"}
    done = subprocess.run(
        [sys.executable, "-m", "asfmatch", *env_args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 2
    assert "ASFMATCH_DB_POOL_MAX must be a whole number" in done.stderr
    assert "Traceback" not in done.stderr


def test_import_of_a_missing_file_is_a_clear_error(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    done = _run(["import", str(tmp_path / "nope.json")], database_url, redis_url, tmp_path)
    assert done.returncode == 2
    assert "cannot read" in done.stderr and "Traceback" not in done.stderr
