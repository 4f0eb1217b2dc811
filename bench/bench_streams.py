"""Live streams' cost in connections, and how fast a revocation closes them: N streams on one
key of one supplier through `asfmatch serve` (one process), counting Redis clients and
PostgreSQL connections before (baseline, same run) and while the streams are open; then the
key is revoked and the time until every stream has ended is measured.

    .venv/bin/python bench/bench_streams.py [--streams 300]

Embedded PostgreSQL and Redis in a temporary directory. ASFMATCH_MAX_STREAMS_PER_KEY is raised
to N for the run (its default, 5, would refuse the rest with 429)."""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import redis.asyncio as aioredis

from asfmatch.storage import organisations, suppliers
from asfmatch.storage.db import connect
from asfmatch.storage.migrations import migrate
from asfmatch.storage.servers import running_servers
from asfmatch.storage.settings import Settings
from harness import free_port, org_number


async def _load(database_url: str) -> tuple[int, str, int]:
    """A supplier with a profile and one key: (profile id, key, organisation id)."""
    connection = await connect(database_url)
    try:
        await migrate(connection)
        organisation = await organisations.create_organisation(
            connection, kind="supplier", name="Kooperativ", org_number=org_number(1, "769")
        )
        profile = await suppliers.insert_supplier(
            connection,
            organisation.id,
            {
                "legal_form": "ekonomisk_forening",
                "description": "Städning och lokalvård.",
                "cpv_codes": ["90910000"],
                "service_area": ["25"],
                "employees": 10,
                "target_group_share": 0.5,
            },
        )
        _, key = await organisations.create_api_key(connection, organisation.id, "bench")
        return profile.id, key, organisation.id
    finally:
        await connection.close()


async def _counts(redis_url: str, database_url: str) -> tuple[int, int]:
    client = aioredis.Redis.from_url(redis_url)
    try:
        info = await client.info("clients")
        redis_clients = int(info["connected_clients"]) - 1  # less this one
    finally:
        await client.aclose()
    connection = await connect(database_url)
    try:
        postgres: int = await connection.fetchval(
            "SELECT count(*) - 1 FROM pg_stat_activity WHERE datname = current_database()"
        )
    finally:
        await connection.close()
    return redis_clients, postgres


async def _bench(streams: int) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="asfstreams", dir="/tmp"))
    settings = Settings.from_env({**os.environ, "ASFMATCH_DATA_DIR": str(data_dir)})
    async with running_servers(settings) as servers:
        profile_id, key, organisation_id = await _load(servers.database_url)
        env = {
            **os.environ,
            "DATABASE_URL": servers.database_url,
            "REDIS_URL": servers.redis_url,
            "ASFMATCH_DATA_DIR": str(data_dir),
            "ASFMATCH_LOG_LEVEL": "WARNING",
            "ASFMATCH_RATE_LIMIT_PER_ORGANISATION": "100000",
            "ASFMATCH_RATE_LIMIT_PER_ADDRESS": "100000",
            "ASFMATCH_MAX_STREAMS_PER_KEY": str(streams),
            "ASFMATCH_SSE_HEARTBEAT_SECONDS": "15",
        }
        port = free_port()
        api = subprocess.Popen(
            [sys.executable, "-m", "asfmatch", "serve", "--port", str(port)], env=env
        )
        base = f"http://127.0.0.1:{port}"
        try:
            async with httpx.AsyncClient(
                timeout=30, limits=httpx.Limits(max_connections=None)
            ) as http:
                for _ in range(200):
                    try:
                        if (await http.get(f"{base}/health")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.1)
                await http.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {key}"})
                baseline = await _counts(servers.redis_url, servers.database_url)
                await _open_and_revoke(
                    http,
                    base,
                    profile_id,
                    key,
                    organisation_id,
                    streams,
                    servers.redis_url,
                    servers.database_url,
                    baseline,
                )
        finally:
            api.terminate()
            api.wait(timeout=30)


async def _open_and_revoke(
    http: httpx.AsyncClient,
    base: str,
    profile_id: int,
    key: str,
    organisation_id: int,
    streams: int,
    redis_url: str,
    database_url: str,
    baseline: tuple[int, int],
) -> None:
    url = f"{base}/api/v1/suppliers/{profile_id}/events"
    headers = {"Authorization": f"Bearer {key}"}
    opened = 0
    ended: list[float] = []
    ready = asyncio.Event()

    async def one() -> None:
        nonlocal opened
        async with http.stream("GET", url, headers=headers) as response:
            lines = response.aiter_lines()
            await anext(lines)  # ": connected"
            opened += 1
            if opened == streams:
                ready.set()
            async for _ in lines:
                pass
        ended.append(time.monotonic())

    tasks = [asyncio.create_task(one()) for _ in range(streams)]
    async with asyncio.timeout(120):
        await ready.wait()
    await asyncio.sleep(1.0)
    during = await _counts(redis_url, database_url)
    redis_added = during[0] - baseline[0]
    postgres_added = during[1] - baseline[1]
    print(f"streams open: {streams}")
    print(
        f"Redis clients: {baseline[0]} with no stream, {during[0]} with {streams} (+{redis_added})"
    )
    print(
        f"PostgreSQL connections: {baseline[1]} with no stream, {during[1]} with {streams} (+{postgres_added})"
    )
    print(
        f"streams per added Redis connection: {streams / redis_added:.1f}"
        if redis_added > 0
        else "streams per added Redis connection: no Redis connection added"
    )
    connection = await connect(database_url)
    try:
        await connection.execute(
            "UPDATE api_keys SET revoked_at = now() WHERE organisation_id = $1", organisation_id
        )
    finally:
        await connection.close()
    revoked_at = time.monotonic()
    try:
        async with asyncio.timeout(60):
            await asyncio.gather(*tasks)
        print(
            f"revocation to last stream closed: {max(ended) - revoked_at:.2f} s (first {min(ended) - revoked_at:.2f} s)"
        )
    except TimeoutError:
        print(f"revocation: {len(ended)} of {streams} streams closed within 60 s")
        for task in tasks:
            task.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--streams", type=int, default=300)
    asyncio.run(_bench(parser.parse_args().streams))


if __name__ == "__main__":
    main()
