"""Helpers of the page tests: sign in through the form as a person would, read CSRF tokens."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from litestar.testing import AsyncTestClient

from asfmatch.storage.db import Connection
from asfmatch.storage.organisations import create_api_key

_CSRF = re.compile(r'name="_csrf" value="([^"]*)"')


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _CSRF.search(html)
    assert found, "page has no form with a CSRF token"
    return found.group(1)


async def sign_in(client: AsyncTestClient[Any], api_key: str, next_path: str = "/") -> str:
    """Sign in with an API key through the form; return the session's CSRF token."""
    form = await client.get("/logga-in")
    response = await client.post(
        "/logga-in",
        data={"_csrf": csrf_of(form.text), "api_key": api_key, "next": next_path},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    page = await client.get("/")
    return csrf_of(page.text)


async def key_for(db: Connection, organisation_id: int) -> str:
    """A fresh API key of an existing organisation (e.g. one of the demo's)."""
    _, secret = await create_api_key(db, organisation_id, "test")
    return secret


@dataclass
class RunningDemo:
    """A running `asfmatch demo` and what it printed."""

    url: str
    admin_key: str
    presenter_link: str
    database_url: str
    output: str


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _drain(stream: IO[str], into: list[str]) -> None:
    for line in stream:
        into.append(line)


@asynccontextmanager
async def running_demo(
    database_url: str, redis_url: str, data_dir: Path, port: int | None = None
) -> AsyncIterator[tuple[RunningDemo, subprocess.Popen[str]]]:
    """`asfmatch demo --port N` as a person starts it, on the given servers; stopped after."""
    port = port or free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "ASFMATCH_DATA_DIR": str(data_dir),
        "ASFMATCH_REDIS_PREFIX": f"demo{port}:",
    }
    env.pop("ASFMATCH_PUBLIC_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "asfmatch", "demo", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    printed: list[str] = []
    drain: threading.Thread | None = None
    try:
        while not any(line.startswith("Press Ctrl-C") for line in printed):
            line = await asyncio.to_thread(process.stdout.readline)
            if not line:
                raise AssertionError("demo exited early:\n" + "".join(printed))
            printed.append(line)
        text = "".join(printed)
        # Keep reading what the demo prints: a full pipe would block its next log line, and
        # a process blocked on a write never gets to its shutdown.
        drain = threading.Thread(target=_drain, args=(process.stdout, printed), daemon=True)
        drain.start()
        admin_key = re.search(r"admin key:\s+(\S+)", text)
        presenter = re.search(r"presenter:\s+(\S+)", text)
        assert admin_key and presenter, text
        yield (
            RunningDemo(
                url=f"http://127.0.0.1:{port}",
                admin_key=admin_key.group(1),
                presenter_link=presenter.group(1),
                database_url=database_url,
                output=text,
            ),
            process,
        )
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            await asyncio.to_thread(process.wait, 30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise AssertionError(
                "demo did not stop within 30 s of SIGTERM; it printed:\n" + "".join(printed)
            ) from None
        finally:
            if drain is not None:
                drain.join(5)
            process.stdout.close()
