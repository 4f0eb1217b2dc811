"""`asfmatch demo`: everything a conference laptop needs, in one process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from importlib.resources import files
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import uvicorn

from asfmatch.api.app import create_app
from asfmatch.api.server import server_config
from asfmatch.importing import import_file, progress_printer
from asfmatch.storage import organisations
from asfmatch.storage.db import connect
from asfmatch.storage.migrations import migrate
from asfmatch.storage.servers import running_servers
from asfmatch.storage.settings import Settings
from asfmatch.workers.runner import Worker

log = logging.getLogger(__name__)

DEMO_ADMIN_ORG = "000000-0000"
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


async def load_demo_data(database_url: str) -> str:
    """Import the demo data unless it is there already; return a fresh admin key."""
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
        async with connection.transaction():
            admin = await organisations.find_organisation(connection, DEMO_ADMIN_ORG)
            if admin is None:
                admin = await organisations.create_organisation(
                    connection,
                    kind="admin",
                    name="asf-match administration",
                    org_number=DEMO_ADMIN_ORG,
                )
            _, secret = await organisations.create_api_key(connection, admin.id, "demo")
        return secret
    finally:
        await connection.close()


async def run_demo(settings: Settings, host: str, port: int) -> int:
    """Start (or reuse) the servers, load the demo data, then run API and worker until Ctrl-C."""
    started = time.perf_counter()
    async with running_servers(settings) as servers:
        admin_key = await load_demo_data(servers.database_url)
        # On a conference laptop the webhook receivers are local, so private addresses are
        # allowed here (and only here, unless ASFMATCH_WEBHOOK_ALLOW_PRIVATE says so).
        running = msgspec.structs.replace(
            settings,
            database_url=servers.database_url,
            redis_url=servers.redis_url,
            webhook_allow_private=True,
        )
        server = uvicorn.Server(server_config(create_app(running), running, host=host, port=port))
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
        print(
            f"\nasf-match demo ready in {time.perf_counter() - started:.1f} s\n"
            # The key rides in the fragment: browsers never send it to the server or its logs.
            f"  site:       http://{host}:{port}/  (sign in with the admin key)\n"
            f"  API docs:   http://{host}:{port}/schema\n"
            f"  admin key:  {admin_key}\n"
            f"  data kept in {settings.data_dir.resolve() if servers.embedded_database else 'DATABASE_URL'}\n"
            "Press Ctrl-C to stop.",
            flush=True,
        )
        try:
            await serving
        finally:
            stop.set()
            with contextlib.suppress(asyncio.CancelledError):
                await worker_task
    return 0
