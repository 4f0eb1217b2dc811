"""Embedded PostgreSQL and Redis: start, share between processes, stop, restart with data kept."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.slow

_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    import asyncpg, redis
    from pathlib import Path
    from asfmatch.storage.embedded import EmbeddedPostgres, EmbeddedRedis

    data_dir, action = Path(sys.argv[1]), sys.argv[2]
    postgres, cache = EmbeddedPostgres(data_dir), EmbeddedRedis(data_dir)
    database_url, redis_url = postgres.start(), cache.start()

    async def main() -> None:
        connection = await asyncpg.connect(database_url)
        client = redis.Redis.from_url(redis_url)
        if action == "write":
            async with connection.transaction():
                # Two writers may start together; CREATE TABLE IF NOT EXISTS itself races.
                await connection.execute("SELECT pg_advisory_xact_lock(1)")
                await connection.execute("CREATE TABLE IF NOT EXISTS kept (value text)")
                await connection.execute("INSERT INTO kept VALUES ('hej')")
            client.set("kept", "hej")
        elif action == "hold":
            print("holding", flush=True)
            sys.stdin.readline()
        else:
            print(await connection.fetchval("SELECT string_agg(value, ',') FROM kept"))
            print(client.get("kept").decode())
        await connection.close()
        client.close()

    asyncio.run(main())
    cache.stop()
    postgres.stop()
    """
)


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Unix socket paths are short; pytest's tmp_path can be too deep.
    with tempfile.TemporaryDirectory(prefix="asfm", dir="/tmp") as directory:
        yield Path(directory)
        _kill_servers(Path(directory))


def _run(data_dir: Path, action: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(data_dir), action],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


def _servers(data_dir: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if str(data_dir) in cmdline and ("postgres" in cmdline or "redis-server" in cmdline):
            found.append(process)
    return found


def _kill_servers(data_dir: Path) -> None:
    for process in _servers(data_dir):
        process.kill()


def test_data_survives_a_stop_and_a_restart(data_dir: Path) -> None:
    _run(data_dir, "write")
    assert _servers(data_dir) == [], "the last user stopped both servers"
    assert _run(data_dir, "read").split() == ["hej", "hej"]


def test_a_second_process_joins_the_running_servers_and_leaves_them_running(
    data_dir: Path,
) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", _SCRIPT, str(data_dir), "hold"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "holding"
        _run(data_dir, "write")
        assert len(_servers(data_dir)) >= 2, "servers keep running while the holder uses them"
    finally:
        holder.communicate("\n", timeout=60)
    assert holder.returncode == 0
    assert _servers(data_dir) == []


def test_embedded_servers_listen_on_unix_sockets_only(data_dir: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", _SCRIPT, str(data_dir), "hold"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        holder.stdout.readline()
        ports = [
            conn.laddr.port
            for process in _servers(data_dir)
            for conn in process.net_connections(kind="inet")
            if conn.status == psutil.CONN_LISTEN
        ]
        assert ports == []
        assert (data_dir / "redis" / "redis.sock").exists()
        assert (data_dir / "postgres" / ".s.PGSQL.5432").exists()
    finally:
        holder.communicate("\n", timeout=60)


def test_two_processes_starting_together_on_a_new_data_dir_both_succeed(data_dir: Path) -> None:
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", _SCRIPT, str(data_dir), "write"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outcomes = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outcomes
    assert _run(data_dir, "read").split() == ["hej,hej", "hej"]
