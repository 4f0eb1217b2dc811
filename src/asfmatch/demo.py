"""`asfmatch demo`: everything a conference laptop needs, in one process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from importlib.resources import files
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import uvicorn

from asfmatch.api.app import create_app
from asfmatch.api.server import server_config
from asfmatch.importing import import_file, progress_printer
from asfmatch.services import demo as demo_service
from asfmatch.services import sessions
from asfmatch.services.match_index import prepare_ranking
from asfmatch.services.organisations import ensure_organisation
from asfmatch.storage import organisations
from asfmatch.storage.db import Connection, connect
from asfmatch.storage.migrations import migrate
from asfmatch.storage.organisations import Principal
from asfmatch.storage.servers import running_servers
from asfmatch.storage.settings import Settings
from asfmatch.workers.runner import Worker

log = logging.getLogger(__name__)

DEMO_ADMIN_ORG = "000000-0000"
# Seconds Ctrl-C or SIGTERM waits for the worker's running jobs before cancelling them.
WORKER_STOP_SECONDS = 5.0
# Seconds Ctrl-C or SIGTERM waits for open requests (live streams never end by themselves).
GRACEFUL_SHUTDOWN_SECONDS = 2
_SWEDEN = ZoneInfo("Europe/Stockholm")


def demo_data(today: date | None = None) -> bytes:
    """The packaged demo data set (buyers, ASFs and needs), its deadlines counted from `today`.

    The file gives each need `closes_in_days` and a local `closes_at_time` instead of a fixed
    date, so the demo loads (and its needs stay open for weeks) whatever day it is started.
    """
    day = today or datetime.now(_SWEDEN).date()
    document: dict[str, Any] = msgspec.json.decode(
        files("asfmatch").joinpath("data/demo.json").read_bytes()
    )
    for need in document["needs"]:
        closes_on = day + timedelta(days=need.pop("closes_in_days"))
        local = clock_time.fromisoformat(need.pop("closes_at_time"))
        need["closes_at"] = datetime.combine(closes_on, local, tzinfo=_SWEDEN).isoformat()
    return msgspec.json.encode(document)


class DemoAccess(msgspec.Struct, frozen=True, kw_only=True):
    """What the demo prints: the admin key (for the presenter's own laptop, never the screen)
    and the read-only presenter link's token. Kept in the data directory, so a restarted demo
    prints the same ones instead of minting more."""

    admin_key: str
    presenter_token: str


def _access_file(data_dir: Path) -> Path:
    return data_dir / "demo-access.json"


async def load_demo_data(
    database_url: str, data_dir: Path, verification_valid_months: int = 24
) -> DemoAccess:
    """Import the demo data unless it is there already, and the support body's verifications
    unless they are; return the demo's keys, reused from the last run when they still work."""
    connection = await connect(database_url)
    try:
        await migrate(connection)
        raw = demo_data()
        first_buyer = msgspec.json.decode(raw)["buyers"][0]["org_number"]
        if await organisations.find_organisation(connection, first_buyer) is None:
            result = await import_file(connection, raw, progress_printer())
            if result.rejected:
                raise RuntimeError(f"demo data rejected: {[str(r) for r in result.rejected]}")
            print(
                f"loaded demo data: {len(result.buyers)} buyers, {len(result.suppliers)} suppliers, "
                f"{len(result.needs)} needs"
            )
        seed = demo_service.demo_verifications()
        async with connection.transaction():
            # A data directory from before the demo had verifications gets them too.
            if (
                await organisations.find_organisation(connection, seed.support_body.org_number)
                is None
            ):
                await demo_service.seed_verifications(connection, verification_valid_months)
            return await _demo_access(connection, data_dir)
    finally:
        await connection.close()


async def _demo_access(connection: Connection, data_dir: Path) -> DemoAccess:
    saved = _read_access(_access_file(data_dir))
    admin = await ensure_organisation(
        connection, "admin", "asf-match administration", DEMO_ADMIN_ORG
    )
    admin_key = saved.admin_key if saved else ""
    principal = await organisations.authenticate(connection, admin_key) if admin_key else None
    if principal is None or principal.organisation_id != admin.id:
        _, admin_key = await organisations.create_api_key(connection, admin.id, "demo")
    presenter_token = saved.presenter_token if saved else secrets.token_urlsafe(32)
    await sessions.ensure_viewer_link(connection, presenter_token, "demo presenter")
    access = DemoAccess(admin_key=admin_key, presenter_token=presenter_token)
    if access != saved:
        _write_access(_access_file(data_dir), access)
    return access


def _read_access(path: Path) -> DemoAccess | None:
    try:
        return msgspec.json.decode(path.read_bytes(), type=DemoAccess)
    except (OSError, msgspec.DecodeError):
        return None


def _write_access(path: Path, access: DemoAccess) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # The admin key opens everything: only this user may read the file.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(msgspec.json.encode(access))


async def reset_demo(settings: Settings) -> int:
    """`asfmatch demo --reset`: remove what the audience posted; print and return 0."""
    async with running_servers(settings) as servers:
        connection = await connect(servers.database_url)
        try:
            async with connection.transaction():
                admin = await organisations.find_organisation(connection, DEMO_ADMIN_ORG)
                if admin is None:
                    print("asfmatch demo --reset: no demo data here", file=sys.stderr)
                    return 1
                principal = Principal(organisation_id=admin.id, role="admin", key_id=0)
                removed = await demo_service.reset_demo(connection, principal, settings)
        finally:
            await connection.close()
    print(
        f"demo reset: removed {removed} need(s) posted since the demo data was loaded, "
        "and every outcome, follow-up question and verification recorded since"
    )
    return 0


async def run_demo(settings: Settings, host: str, port: int) -> int:
    """Start (or reuse) the servers, load the demo data, then run API and worker until Ctrl-C."""
    started = time.perf_counter()
    async with running_servers(settings) as servers:
        access = await load_demo_data(
            servers.database_url, settings.data_dir, settings.verification_valid_months
        )
        # Before serving: compiled lazily, the first ranking would hold the server for seconds.
        prepare_ranking()
        # On a conference laptop the webhook receivers are local, so private addresses are
        # allowed here (and only here, unless ASFMATCH_WEBHOOK_ALLOW_PRIVATE says so).
        running = msgspec.structs.replace(
            settings,
            database_url=servers.database_url,
            redis_url=servers.redis_url,
            webhook_allow_private=True,
            public_url=settings.public_url_for(host, port),
            demo_mode=True,
        )
        server = uvicorn.Server(
            server_config(
                create_app(running),
                running,
                host=host,
                port=port,
                # Open live streams must not hold Ctrl-C or SIGTERM up.
                graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
            )
        )
        worker = Worker(running, servers.database_url)
        stop = asyncio.Event()
        worker_task = asyncio.create_task(worker.run(stop))
        serving = asyncio.create_task(server.serve())
        # uvicorn offers a flag, not an event, for "listening now".
        while not server.started and not serving.done():  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        if serving.done():
            stop.set()
            await worker_task
            print(f"asfmatch demo: could not listen on {host}:{port}", file=sys.stderr)
            return 1
        base = running.public_url.rstrip("/")
        print(
            f"\nasf-match demo ready in {time.perf_counter() - started:.1f} s\n"
            f"  site:       {base}/\n"
            f"  presenter:  {base}/logga-in/lank/{access.presenter_token}\n"
            "              (read-only: safe on a projector)\n"
            f"  API docs:   {base}/schema\n"
            f"  admin key:  {access.admin_key}\n"
            "              (sign in at /logga-in on your own screen; keep it off the projector)\n"
            f"  data kept in {settings.data_dir.resolve() if servers.embedded_database else 'DATABASE_URL'}\n"
            "Press Ctrl-C to stop.",
            flush=True,
        )
        try:
            await serving
        finally:
            stop.set()
            # A job still running when the demo stops is given a moment, then cancelled: its
            # lease runs out and the next start runs it again, so stopping loses nothing.
            done, _ = await asyncio.wait({worker_task}, timeout=WORKER_STOP_SECONDS)
            if not done:
                print("asfmatch demo: stopping the worker's unfinished jobs", file=sys.stderr)
                worker_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker_task
    return 0
