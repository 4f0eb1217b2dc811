"""Match notifications end to end: time from `POST /api/v1/needs` to the signed webhook received
by each of 50 matched suppliers, and webhook deliveries per second, through the real API
(uvicorn), the PostgreSQL queue, real worker processes and a real receiver on loopback that
verifies every signature with the `standardwebhooks` reference library.

    .venv/bin/python bench/bench_notifications.py [--needs 20] [--burst 20] [--workers 1]

Embedded PostgreSQL and Redis in a temporary directory unless DATABASE_URL / REDIS_URL are set.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from asfmatch.storage import organisations, suppliers, webhooks
from asfmatch.storage.db import connect
from asfmatch.storage.migrations import migrate
from asfmatch.storage.servers import running_servers
from asfmatch.storage.settings import Settings
from harness import free_port, org_number, percentile

MATCHED = 50
# Suppliers elsewhere and in other trades: the index is not only the 50 that match.
BACKGROUND = 450
TRADES = [
    ("Catering och lunchservering till skolor och äldreboenden.", ["55520000"]),
    ("Trädgårdsskötsel, gräsklippning och snöröjning.", ["77310000"]),
    ("Tvätteri och textilservice för vård och omsorg.", ["98310000"]),
    ("Flyttjänster och magasinering för kommuner.", ["60000000"]),
]
FAR_AWAY = ["01", "12", "14", "03", "05"]


class Receiver:
    """Records when each supplier's webhook for each need arrived; checks every signature."""

    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}
        self.arrived: dict[int, dict[int, float]] = {}
        self.times: list[float] = []
        self.bad_signatures = 0
        self.duplicates = 0
        self.seen: set[str] = set()
        self.changed = asyncio.Event()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            path = (await reader.readline()).decode().split(" ")[1]
            headers: dict[str, str] = {}
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            now = time.perf_counter()
            try:
                payload = Webhook(self.secrets[path]).verify(body, headers)
            except (KeyError, WebhookVerificationError):
                self.bad_signatures += 1
                payload = json.loads(body)
            if headers["webhook-id"] in self.seen:
                self.duplicates += 1
            self.seen.add(headers["webhook-id"])
            supplier_id = int(path.rsplit("/", 1)[1])
            for need_id in payload["data"].get("need_ids", []):
                self.arrived.setdefault(need_id, {}).setdefault(supplier_id, now)
            self.times.append(now)
            self.changed.set()
            writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
            await writer.drain()
        finally:
            writer.close()

    async def wait_for(self, need_id: int, count: int) -> dict[int, float]:
        async with asyncio.timeout(60):
            while len(self.arrived.get(need_id, {})) < count:
                self.changed.clear()
                await self.changed.wait()
        return self.arrived[need_id]


async def _load(database_url: str, receiver: Receiver, port: int) -> str:
    """Migrate; insert 50 matching cleaning co-ops with webhooks and 450 others; an admin key."""
    connection = await connect(database_url)
    try:
        await migrate(connection)
        async with connection.transaction():
            for serial in range(1, MATCHED + BACKGROUND + 1):
                organisation = await organisations.create_organisation(
                    connection,
                    kind="supplier",
                    name=f"Kooperativ {serial}",
                    org_number=org_number(serial, "769"),
                )
                if serial <= MATCHED:
                    description = (
                        f"Städning och lokalvård av skolor, förskolor och kontor (team {serial}). "
                        "Arbetsträning för personer långt från arbetsmarknaden."
                    )
                    codes, area = ["90910000"], ["25"]
                else:
                    description, codes = TRADES[serial % len(TRADES)]
                    area = [FAR_AWAY[serial % len(FAR_AWAY)]]
                profile = await suppliers.insert_supplier(
                    connection,
                    organisation.id,
                    {
                        "legal_form": "ekonomisk_forening",
                        "description": description,
                        "cpv_codes": codes,
                        "service_area": area,
                        "employees": 10,
                        "target_group_share": 0.5,
                    },
                )
                if serial <= MATCHED:
                    path = f"/hook/{profile.id}"
                    _, secret = await webhooks.create_endpoint(
                        connection, profile.id, f"http://127.0.0.1:{port}{path}", "bench"
                    )
                    receiver.secrets[path] = secret
            admin = await organisations.create_organisation(
                connection, kind="admin", name="bench", org_number=org_number(1, "555")
            )
            _, key = await organisations.create_api_key(connection, admin.id, "bench")
        return key
    finally:
        await connection.close()


async def _bench(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="asfnotify", dir="/tmp"))
    settings = Settings.from_env({**os.environ, "ASFMATCH_DATA_DIR": str(data_dir)})
    receiver = Receiver()
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with running_servers(settings) as servers:
        key = await _load(servers.database_url, receiver, port)
        env = {
            **os.environ,
            "DATABASE_URL": servers.database_url,
            "REDIS_URL": servers.redis_url,
            "ASFMATCH_DATA_DIR": str(data_dir),
            "ASFMATCH_LOG_LEVEL": "WARNING",
            "ASFMATCH_RATE_LIMIT_PER_ORGANISATION": "100000",
            "ASFMATCH_RATE_LIMIT_PER_ADDRESS": "100000",
            # Every one of the 50 is told about every need, and nobody hits the daily cap.
            "ASFMATCH_MATCH_LIST_SIZE": str(MATCHED),
            "ASFMATCH_NOTIFY_TOP_N": str(MATCHED),
            "ASFMATCH_NOTIFY_DAILY_CAP": "1000000",
            "ASFMATCH_WEBHOOK_ALLOW_PRIVATE": "true",
        }
        api_port = free_port()
        command = [sys.executable, "-m", "asfmatch"]
        processes = [subprocess.Popen([*command, "serve", "--port", str(api_port)], env=env)]
        processes += [subprocess.Popen([*command, "worker"], env=env) for _ in range(args.workers)]
        try:
            await _measure(args, key, api_port, receiver)
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=30)
            server.close()


async def _measure(args: argparse.Namespace, key: str, port: int, receiver: Receiver) -> None:
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        for _ in range(300):
            try:
                if (await client.get("/health")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
        buyer = await client.post(
            "/api/v1/organisations",
            json={"kind": "buyer", "name": "Luleå kommun", "org_number": org_number(2, "212")},
        )
        buyer_id = buyer.json()["id"]

        async def post(number: int) -> tuple[int, float]:
            started = time.perf_counter()
            created = await client.post(
                "/api/v1/needs",
                json={
                    "title": f"Lokalvård av förskolor, område {number}",
                    "description": "Daglig städning och lokalvård av förskolor i Luleå.",
                    "cpv_codes": ["90919200"],
                    "kommun": "2580",
                    "buyer_id": buyer_id,
                },
            )
            assert created.status_code == 201, created.text
            return int(created.json()["id"]), started

        # The worker builds its match index on its first job: not measured.
        need_id, _ = await post(0)
        await receiver.wait_for(need_id, MATCHED)

        each: list[float] = []
        last: list[float] = []
        for number in range(1, args.needs + 1):
            need_id, started = await post(number)
            arrived = await receiver.wait_for(need_id, MATCHED)
            latencies = [(moment - started) * 1000 for moment in arrived.values()]
            each += latencies
            last.append(max(latencies))

        before = len(receiver.times)
        burst_started = time.perf_counter()
        posted = await asyncio.gather(*(post(1000 + n) for n in range(args.burst)))
        for need_id, _ in posted:
            await receiver.wait_for(need_id, MATCHED)
        burst = sorted(receiver.times[before:])
        deliveries = len(burst)
        rate_window = burst[-1] - burst[0]
        end_to_end = burst[-1] - burst_started

    print(
        f"\nmachine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )
    print(
        f"{MATCHED} matched suppliers with webhooks among {MATCHED + BACKGROUND}; "
        f"{args.workers} worker process(es); API: 1 uvicorn process\n"
    )
    print(f"{'measure':52} {'p50 ms':>9} {'p95 ms':>9}")
    print(
        f"{'POST /needs -> webhook received (each of 50)':52} "
        f"{statistics.median(each):9.1f} {percentile(each, 0.95):9.1f}"
    )
    print(
        f"{'POST /needs -> the 50th webhook received':52} "
        f"{statistics.median(last):9.1f} {percentile(last, 0.95):9.1f}"
    )
    print(f"  ({args.needs} needs posted one after another, {len(each)} deliveries)\n")
    print(
        f"burst: {args.burst} needs posted at once -> {deliveries} webhooks in "
        f"{end_to_end:.2f} s from the first POST"
    )
    print(f"deliveries per second (first to last receipt): {deliveries / rate_window:.0f}")
    print(f"deliveries per second (first POST to last receipt): {deliveries / end_to_end:.0f}")
    print(
        f"signatures failing verification: {receiver.bad_signatures}; "
        f"duplicate webhook-ids received: {receiver.duplicates}"
    )


def main() -> None:
    """Parse arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--needs", type=int, default=20, help="needs timed one at a time")
    parser.add_argument("--burst", type=int, default=20, help="needs posted at once")
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    asyncio.run(_bench(parser.parse_args()))


if __name__ == "__main__":
    main()
