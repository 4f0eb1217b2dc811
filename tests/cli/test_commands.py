"""The `asfmatch` commands as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from asfmatch.storage.migrations import load_migrations
from testkit import run_asfmatch

pytestmark = pytest.mark.slow


def test_commands_refuse_to_run_on_an_unmigrated_database_and_migrate_fixes_it(
    empty_database: str, redis_url: str, tmp_path: Path
) -> None:
    refused = run_asfmatch(["worker", "--drain"], empty_database, redis_url, tmp_path)
    assert refused.returncode == 1
    assert "pending migrations" in refused.stderr and "asfmatch migrate" in refused.stderr
    first = run_asfmatch(["migrate"], empty_database, redis_url, tmp_path)
    shipped = len(load_migrations())
    assert first.returncode == 0 and f"applied {shipped} migration(s)" in first.stdout
    again = run_asfmatch(["migrate"], empty_database, redis_url, tmp_path)
    assert again.returncode == 0 and "applied 0 migration(s)" in again.stdout
    drained = run_asfmatch(["worker", "--drain"], empty_database, redis_url, tmp_path)
    assert drained.returncode == 0 and "ran 0 job(s)" in drained.stdout


async def test_create_admin_key_prints_a_working_admin_key(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    from asfmatch.storage.organisations import authenticate

    done = run_asfmatch(["create-admin-key"], database_url, redis_url, tmp_path)
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip()
    assert key.startswith("asfm_")
    connection = await asyncpg.connect(database_url)
    try:
        principal = await authenticate(connection, key)
    finally:
        await connection.close()
    assert principal is not None and principal.role == "admin"


async def test_create_admin_key_refuses_a_number_registered_to_a_buyer(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "INSERT INTO organisations (kind, name, org_number) VALUES ('buyer', 'Kommun', $1)",
            "212000-2411",
        )
    finally:
        await connection.close()
    args = ["create-admin-key", "--org-number", "2120002411"]
    done = run_asfmatch(args, database_url, redis_url, tmp_path)
    assert done.returncode == 1, done.stdout
    assert "212000-2411 is registered as a buyer" in done.stderr
    assert done.stdout == ""


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
    done = run_asfmatch(["import", str(tmp_path / "nope.json")], database_url, redis_url, tmp_path)
    assert done.returncode == 2
    assert "cannot read" in done.stderr and "Traceback" not in done.stderr


def test_sigterm_stops_the_demo_and_the_embedded_servers_it_started() -> None:
    import socket
    import tempfile

    import psutil

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory(prefix="asfm", dir="/tmp") as data_dir:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DATABASE_URL", "REDIS_URL"}
        }
        env["ASFMATCH_DATA_DIR"] = data_dir
        demo = subprocess.Popen(
            [sys.executable, "-m", "asfmatch", "demo", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        left: list[psutil.Process] = []
        try:
            assert demo.stdout is not None
            for line in demo.stdout:
                if "demo ready" in line:
                    break
            demo.terminate()
            status = demo.wait(timeout=60)
        finally:
            if demo.poll() is None:
                demo.kill()
            demo.stdout.close()  # type: ignore[union-attr]
            left = [
                process
                for process in psutil.process_iter(["cmdline"])
                if data_dir in " ".join(process.info["cmdline"] or [])
            ]
            for process in left:
                process.kill()
        assert status == 130, "SIGTERM unwinds like Ctrl-C"
        assert left == [], "the servers outlived the demo"
